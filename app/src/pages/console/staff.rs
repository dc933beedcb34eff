use super::console_page_error;
use crate::components::{ConsoleLayout, PlainLayout};
use crate::console_api::{load_console_staff, load_invitation};
use crate::pages::{load_failed, loading, param, NotFound};
use crate::types::{PortalError, StaffMemberView, StaffView};
use leptos::prelude::*;
use leptos_meta::Title;

fn roles(can_owners: bool) -> Vec<(&'static str, &'static str)> {
    let mut r = vec![("viewer", "Viewer (look only)"), ("admin", "Admin (everything but owners)")];
    if can_owners {
        r.push(("owner", "Owner (everything)"));
    }
    r
}

fn member_row(base: String, m: StaffMemberView, v: &StaffView) -> impl IntoView {
    let manageable = v.can_manage_staff && (m.role != "owner" || v.can_manage_owners) && !m.is_you;
    let id = m.id.clone();
    let select_id = format!("role-{id}");
    let options = roles(v.can_manage_owners);
    let current = m.role.clone();
    view! {
        <tr>
            <td>{m.name.clone()} {m.is_you.then_some(" (you)")}</td>
            <td>{m.email.clone()}</td>
            <td>{m.role.clone()}</td>
            <td>
                {manageable.then(|| view! {
                    <form method="post" action=format!("{base}/staff/{id}/role") class="inline-form">
                        <label for=select_id.clone() class="visually-hidden">{format!("Role for {}", m.email)}</label>
                        <select id=select_id.clone() name="role" class="input">
                            {options.iter().map(|(value, text)| view! { <option value=*value selected=current == *value>{*text}</option> }).collect_view()}
                        </select>
                        <button type="submit" class="button button--secondary">"Change role"</button>
                    </form>
                    <form method="post" action=format!("{base}/staff/{id}/remove") class="inline-form">
                        <button type="submit" class="button button--link">{format!("Remove {}", m.email)}</button>
                    </form>
                })}
            </td>
        </tr>
    }
}

/// `/m/{slug}/staff`: the team and its invitations.
#[component]
pub fn ConsoleStaffPage() -> impl IntoView {
    let slug = param("slug");
    let data = Resource::new(move || slug.get(), load_console_staff);
    view! {
        <Suspense fallback=loading>
            {move || Suspend::new(async move {
                let slug = slug.get_untracked();
                match data.await {
                    Ok(v) => {
                        let base = format!("/m/{slug}");
                        let rows = v.members.clone().into_iter().map(|m| member_row(base.clone(), m, &v)).collect_view();
                        view! {
                            <Title text=format!("Team · {} · Settle console", v.header.merchant_name)/>
                            <ConsoleLayout header=v.header.clone() current="/staff">
                                <h1>"Team"</h1>
                                {v.notice.clone().map(|(ok, text)| {
                                    let class = if ok { "notice notice--ok" } else { "notice notice--warn" };
                                    view! { <p class=class role="status">{text}</p> }
                                })}
                                <table class="console-table">
                                    <thead><tr><th scope="col">"Name"</th><th scope="col">"Email"</th><th scope="col">"Role"</th><th scope="col">"Change"</th></tr></thead>
                                    <tbody>{rows}</tbody>
                                </table>
                                {v.can_manage_staff.then(|| view! {
                                    <h2>"Invite someone"</h2>
                                    <form method="post" action=format!("{base}/staff/invite") class="stack">
                                        <label for="invite-email">"Email address"</label>
                                        <input id="invite-email" name="email" type="email" required class="input"/>
                                        <label for="invite-role">"Role"</label>
                                        <select id="invite-role" name="role" class="input">
                                            {roles(v.can_manage_owners).into_iter().map(|(value, text)| view! { <option value=value>{text}</option> }).collect_view()}
                                        </select>
                                        <button type="submit" class="button button--primary">"Send invitation"</button>
                                    </form>
                                })}
                                <h2>"Pending invitations"</h2>
                                {if v.invitations.is_empty() {
                                    view! { <p>"None."</p> }.into_any()
                                } else {
                                    view! {
                                        <ul class="account-links">
                                            {v.invitations.clone().into_iter().map(|i| view! {
                                                <li>
                                                    {format!("{} as {}, until {} ", i.email, i.role, i.expires_on)}
                                                    {v.can_manage_staff.then(|| view! {
                                                        <form method="post" action=format!("{base}/staff/invitations/{}/withdraw", i.id) class="inline-form">
                                                            <button type="submit" class="button button--link">{format!("Withdraw the invitation to {}", i.email)}</button>
                                                        </form>
                                                    })}
                                                </li>
                                            }).collect_view()}
                                        </ul>
                                    }.into_any()
                                }}
                            </ConsoleLayout>
                        }
                        .into_any()
                    }
                    Err(e) => console_page_error(&slug, e),
                }
            })}
        </Suspense>
    }
}

/// `/m/{slug}/invite/{token}`: accept an invitation (GET uses nothing up).
#[component]
pub fn InvitationAcceptPage() -> impl IntoView {
    let slug = param("slug");
    let token = param("token");
    let data = Resource::new(move || (slug.get(), token.get()), |(s, t)| load_invitation(s, t));
    view! {
        <Suspense fallback=loading>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(p) => {
                        let body = match p.invitation.clone() {
                            Some((email, role)) => view! {
                                <p>{format!("You're invited to {}'s billing console as {role}, with the address {email}.", p.merchant_name)}</p>
                                {p.error.clone().map(|e| view! { <p class="notice notice--error" role="alert">{e}</p> })}
                                <form method="post" action=format!("/m/{}/invite/{}", p.slug, token.get_untracked()) class="stack">
                                    <label for="name">"Your name"</label>
                                    <input id="name" name="name" class="input" autocomplete="name" required/>
                                    <label for="password">"Choose a password"</label>
                                    <span id="password-hint" class="muted small">"At least 8 characters, not a common one."</span>
                                    <input id="password" name="password" type="password" class="input" autocomplete="new-password"
                                        required aria-describedby="password-hint"/>
                                    <button type="submit" class="button button--primary">"Join"</button>
                                </form>
                            }.into_any(),
                            None => {
                                crate::components::set_http_status(404);
                                view! {
                                {p.error.clone().map(|e| view! { <p class="notice notice--error" role="alert">{e}</p> })}
                                <p>"This invitation link has been used, withdrawn or has expired. Ask whoever invited you for a new one."</p>
                                <p><a href=format!("/m/{}/sign-in", p.slug)>"Sign in"</a></p>
                            }.into_any()
                            }
                        };
                        view! {
                            <Title text=format!("Join {} · Settle console", p.merchant_name)/>
                            <PlainLayout>
                                <h1>{format!("Join {}", p.merchant_name)}</h1>
                                {body}
                            </PlainLayout>
                        }
                        .into_any()
                    }
                    Err(PortalError::NotFound) => view! { <NotFound/> }.into_any(),
                    Err(e) => load_failed(e),
                }
            })}
        </Suspense>
    }
}

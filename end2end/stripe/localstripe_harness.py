"""Settle's offline Stripe: localstripe (PyPI) with the fixes Settle needs.

localstripe is a stateful fake of Stripe's API. Started by the test setup on
127.0.0.1 with a fresh in-memory state; the fixes below close the gaps that
matter to Settle's Stripe gateway (async-stripe's typed models, idempotency,
card setup, off-session authentication):

* binds 127.0.0.1 only and never pickles state to /tmp (every start is clean)
* Idempotency-Key is honoured: a repeated POST replays the first answer
* an off-session payment needing 3-D Secure fails with 402
  authentication_required, as Stripe does (localstripe leaves it
  requires_action)
* a succeeded SetupIntent attaches its card to the customer
* a card's expiry can be updated (as Stripe's card updater would), keeping
  brand and last4
* 402 errors are typed card_error with a decline_code
* fields Stripe always sends and typed clients require are filled in
  (payment intents, charges, events, payment methods)
* webhooks go to every registered endpoint at once, each with a 5 s timeout
  (localstripe posts to them one after another with no timeout, so one slow
  endpoint held up every other test's deliveries)
* the fake Stripe.js is served inside a function scope: at the top level its
  `class Element` would replace the browser's `Element` for every script
  on the page (wasm-bindgen's `instanceof Element` checks among them)
* parameters Stripe accepts and localstripe rejects are tolerated
  (description, statement descriptors, return_url, automatic_payment_methods)

Webhooks are registered with POST /_config/webhooks/NAME (url=…, secret=…).

Usage: python localstripe_harness.py --port 8420
"""
import argparse
import asyncio
import logging
import os

import aiohttp
from aiohttp import web
from localstripe import resources as R
from localstripe import server
from localstripe.errors import UserError
from localstripe import webhooks as W
from localstripe.webhooks import schedule_webhook

# Every start is clean: no shared pickle file.
R.Store.dump_to_disk = lambda self: None


# --- answers shaped like Stripe's ---------------------------------------------
def _complete(o):
    if isinstance(o, list):
        return [_complete(x) for x in o]
    if not isinstance(o, dict):
        return o
    o = {k: _complete(v) for k, v in o.items()}
    kind = o.get('object')
    if kind == 'payment_intent':
        status = o.get('status')
        o.setdefault('amount_capturable', o['amount'] if status == 'requires_capture' else 0)
        o.setdefault('amount_received', o['amount'] if status == 'succeeded' else 0)
        o.setdefault('confirmation_method', 'automatic')
        o.setdefault('payment_method_types', ['card'])
        o.setdefault('description', None)
        error = o.get('last_payment_error')
        if isinstance(error, dict):
            error.setdefault('type', 'card_error')
        # Form values arrive as strings; Stripe answers with booleans.
        apm = o.get('automatic_payment_methods')
        if isinstance(apm, dict) and isinstance(apm.get('enabled'), str):
            apm['enabled'] = apm['enabled'] == 'true'
        # Stripe sends the charge's id unless asked to expand it.
        if isinstance(o.get('latest_charge'), dict):
            o['latest_charge'] = o['latest_charge']['id']
        o.pop('charges', None)
    elif kind == 'charge':
        captured = o.get('captured') and o.get('status') == 'succeeded'
        o.setdefault('amount_captured', o['amount'] if captured else 0)
        o.setdefault('billing_details', {'address': None, 'email': None, 'name': None, 'phone': None})
        o.setdefault('disputed', False)
    elif kind == 'event':
        o.setdefault('pending_webhooks', 0)
        o.setdefault('request', {'id': None, 'idempotency_key': None})
    elif kind == 'payment_method' and isinstance(o.get('card'), dict):
        card = o['card']
        for k in ('exp_month', 'exp_year'):
            if isinstance(card.get(k), str) and card[k].isdigit():
                card[k] = int(card[k])
    return o


_export = R.StripeObject._export
R.StripeObject._export = lambda self, expand=None: _complete(_export(self, expand=expand))

_user_error_init = UserError.__init__


def _typed_user_error(self, code, message=None, contents=None):
    _user_error_init(self, code, message, contents)
    error = self.body['error']
    if code == 402:
        error['type'] = 'card_error'
        if error.get('code') == 'card_declined':
            error.setdefault('decline_code', 'generic_decline')


UserError.__init__ = _typed_user_error


# --- behaviour as at Stripe ---------------------------------------------------
def _update_card_expiry(self, **data):
    card = data.pop('card', None)
    if card is not None:
        if not isinstance(card, dict) or set(card) - {'exp_month', 'exp_year'}:
            raise UserError(400, 'Bad request')
        for k, v in card.items():
            v = R.try_convert_to_int(v)
            if not isinstance(v, int):
                raise UserError(400, 'Bad request')
            self.card[k] = v
    if data:
        R.StripeObject._update(self, **data)


R.PaymentMethod._update = _update_card_expiry

_attach_pm = R.SetupIntent._attach_pm


def _setup_attaches_card(self, pm):
    _attach_pm(self, pm)
    if self.status == 'succeeded' and self.customer:
        pm.customer = self.customer


R.SetupIntent._attach_pm = _setup_attaches_card


def _tolerate(cls, names):
    init = cls.__init__

    def tolerant_init(self, *args, **kwargs):
        extra = {k: kwargs.pop(k) for k in list(kwargs) if k in names}
        init(self, *args, **kwargs)
        for k, v in extra.items():
            setattr(self, k, v)

    cls.__init__ = tolerant_init


_tolerate(R.PaymentIntent, {'description', 'receipt_email', 'statement_descriptor',
                            'statement_descriptor_suffix', 'setup_future_usage',
                            'error_on_requires_action', 'return_url', 'automatic_payment_methods'})
_tolerate(R.SetupIntent, {'description'})


def _off_session_needs_authentication(pi):
    # Stripe: an off-session payment that needs 3-D Secure fails with 402.
    pi.next_action = None
    pi._authentication_failed = True
    pi.payment_method = None
    schedule_webhook(R.Event('payment_intent.payment_failed', pi))
    raise UserError(402, 'Your card was declined. This transaction requires authentication.',
                    {'code': 'authentication_required', 'decline_code': 'authentication_required',
                     'payment_intent': pi._export()})


_pi_create = R.PaymentIntent._api_create.__func__


@classmethod
def _create_payment_intent(cls, confirm=None, off_session=None, **data):
    pi = _pi_create(cls, confirm=confirm, off_session=off_session, **data)
    if R.try_convert_to_bool(off_session) is True and pi.status == 'requires_action':
        _off_session_needs_authentication(pi)
    return pi


R.PaymentIntent._api_create = _create_payment_intent


def _customer_payment_methods(id, type=None, limit=None, starting_after=None, **kwargs):
    R.Customer._api_retrieve(id)
    li = R.List('/v1/customers/%s/payment_methods' % id, limit=limit, starting_after=starting_after)
    li._list = [v for k, v in R.store.items() if k.startswith('payment_method:')
                and v.customer == id and (type is None or v.type == type)]
    return li


# --- webhooks: concurrent, bounded ---------------------------------------------
async def _deliver(session, webhook, event_type, payload, created):
    import hashlib
    import hmac
    signed_payload = b'%d.%s' % (created, payload)
    signature = hmac.new(webhook.secret.encode('utf-8'), signed_payload, hashlib.sha256).hexdigest()
    headers = {'Content-Type': 'application/json; charset=utf-8',
               'Stripe-Signature': 't=%d,v1=%s' % (created, signature)}
    try:
        async with session.post(webhook.url, data=payload, headers=headers) as r:
            await r.read()
    except Exception as e:  # a dead or slow endpoint must not stop the others
        logging.getLogger('localstripe').info('webhook %s to %s failed: %s', event_type, webhook.url, e)


async def _send_webhook(event):
    import json
    payload = json.dumps(event._export(), indent=2, sort_keys=True).encode('utf-8')
    await asyncio.sleep(1)
    targets = [w for w in W._webhooks.values() if w.events is None or event.type in w.events]
    timeout = aiohttp.ClientTimeout(total=5)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        await asyncio.gather(*(_deliver(session, w, event.type, payload, event.created) for w in targets))


W._send_webhook = _send_webhook


# --- the fake Stripe.js, scoped -------------------------------------------------
async def scoped_stripe_js(request):
    path = os.path.join(os.path.dirname(os.path.realpath(server.__file__)), 'localstripe-v3.js')
    with open(path, encoding='utf-8') as f:
        source = f.read()
    # `Stripe = …` (undeclared) still becomes window.Stripe inside the scope.
    body = '(function () {\n' + source + '\n})();\n'
    return web.Response(body=body, content_type='application/javascript')


# --- Idempotency-Key: a repeated POST replays the first answer -----------------
_replays = {}


@web.middleware
async def idempotency(request, handler):
    key = request.headers.get('Idempotency-Key')
    if request.method != 'POST' or not key:
        return await handler(request)
    slot = (request.headers.get('Authorization'), key)
    if slot in _replays:
        path, status, body = _replays[slot]
        if path != request.path:
            return server.json_response({'error': {
                'type': 'idempotency_error',
                'message': 'Keys for idempotent requests can only be used for the same endpoint'}}, status=400)
        response = web.Response(body=body, status=status, content_type='application/json')
        response.headers['Idempotent-Replayed'] = 'true'
        return response
    response = await handler(request)
    if isinstance(response, web.Response) and response.status < 500:
        _replays[slot] = (request.path, response.status, response.body)
    return response


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--host', default='127.0.0.1')
    parser.add_argument('--port', type=int, default=8420)
    parser.add_argument('--parent-pid', type=int, default=None,
                        help='exit when this process is gone (test runs never leave a server behind)')
    args = parser.parse_args()
    app = web.Application(middlewares=[server.error_middleware, server.auth_middleware, idempotency])
    app.on_response_prepare.append(server.add_cors_headers)
    extra = [('GET', '/v1/customers/{id}/payment_methods', _customer_payment_methods)]
    for method, url, func in extra:
        app.router.add_route(method, url, server.api_extra(func, url))
    app.router.add_get('/js.stripe.com/v3/', scoped_stripe_js)
    taken = {(m, u) for m, u, _ in extra} | {('GET', '/js.stripe.com/v3/')}
    for route in server.app.router.routes():
        if route.method != 'HEAD' and (route.method, route.resource.canonical) not in taken:
            app.router.add_route(route.method, route.resource.canonical, route.handler)
    if args.parent_pid:
        async def watch_parent(_app):
            async def watch():
                while True:
                    await asyncio.sleep(0.5)
                    try:
                        os.kill(args.parent_pid, 0)
                    except OSError:
                        os._exit(0)
            asyncio.get_running_loop().create_task(watch())
        app.on_startup.append(watch_parent)
    logging.basicConfig(level=logging.WARNING)
    web.run_app(app, host=args.host, port=args.port, access_log=None, print=None)


if __name__ == '__main__':
    main()

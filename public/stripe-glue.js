// Stripe.js on Settle's pages: card fields for adding a card (SetupIntent)
// and the bank's check for a payment that requires action. The card details
// go from these fields straight to Stripe; our server only ever hears the
// SetupIntent or PaymentIntent id, and asks Stripe itself what happened.
(function () {
  'use strict';
  // Runs `fn` once the page has hydrated (the app marks <body>), or after a
  // few seconds if the app's script never runs: Stripe.js adds its dialogs
  // to the page, which must not happen while Leptos is hydrating it.
  function whenHydrated(fn) {
    var waited = 0;
    (function check() {
      var ready = typeof window.Stripe === 'function';
      if (ready && (document.body.dataset.hydrated === 'true' || waited >= 5000)) return fn();
      waited += 50;
      setTimeout(check, 50);
    })();
  }

  function status(text) {
    var el = document.getElementById('stripe-status');
    if (el) el.textContent = text;
  }

  var setup = document.getElementById('stripe-setup');
  if (setup) whenHydrated(function () {
    if (setup.dataset.mounted) return;
    setup.dataset.mounted = 'true';
    var stripe = Stripe(setup.dataset.stripeKey);
    var elements = stripe.elements();
    var card = elements.create('card');
    card.mount('#card-element');
    var busy = false;
    setup.addEventListener('submit', function (event) {
      event.preventDefault();
      if (busy) return;
      busy = true;
      status('Saving your card…');
      stripe.confirmCardSetup(setup.dataset.clientSecret, { payment_method: { card: card } }).then(function (result) {
        if (result.error) {
          busy = false;
          status(result.error.message || 'Your card could not be saved. Check the details and try again.');
          return;
        }
        status('Card saved.');
        setup.submit();
      });
    });
  });

  var action = document.getElementById('stripe-action');
  if (action) {
    var started = false;
    var run = function (event) {
      if (event) event.preventDefault();
      if (started || typeof window.Stripe !== 'function') return;
      started = true;
      var stripe2 = Stripe(action.dataset.stripeKey);
      status('Opening your bank’s check…');
      // Whatever the outcome, the server asks Stripe where the payment stands.
      stripe2.confirmCardPayment(action.dataset.clientSecret).then(function () { action.submit(); });
    };
    action.addEventListener('submit', run);
    whenHydrated(run);
  }
})();

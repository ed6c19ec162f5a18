// Progressive enhancement only. A form marked data-busy="message" can take a while (it talks to
// a calendar server): on submit its button is disabled (no second submit), the form is marked
// busy and the message is put in its status line, read out by screen readers. Without
// JavaScript the form works the same, without the message.
(function () {
  'use strict';
  var forms = document.querySelectorAll('form[data-busy]');
  for (var i = 0; i < forms.length; i++) {
    forms[i].addEventListener('submit', function (event) {
      var form = event.currentTarget;
      if (form.getAttribute('aria-busy') === 'true') {
        event.preventDefault();
        return;
      }
      form.setAttribute('aria-busy', 'true');
      var buttons = form.querySelectorAll('button[type="submit"]');
      // Disabled after this event, or the browser would not send the form.
      setTimeout(function () {
        for (var j = 0; j < buttons.length; j++) buttons[j].disabled = true;
      }, 0);
      var status = form.querySelector('[data-busy-status]');
      if (status) status.textContent = form.getAttribute('data-busy');
    });
  }
})();

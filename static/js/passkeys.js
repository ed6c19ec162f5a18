// Progressive enhancement only: passkeys need the browser's WebAuthn API, so without JavaScript
// (or on a browser without passkeys) the forms stay hidden and password or single sign-on remain.
// On /login: sign in with a passkey, offered in the username field's autofill where the browser
// supports it ("conditional UI"), and by a button. On the profile: add a passkey.
// The server speaks WebAuthn's JSON form (base64url strings); the browser API wants ArrayBuffers.
(function () {
  'use strict';
  if (!window.PublicKeyCredential || !navigator.credentials || !window.fetch) return;

  function toBuffer(base64url) {
    var base64 = base64url.replace(/-/g, '+').replace(/_/g, '/');
    while (base64.length % 4 !== 0) base64 += '=';
    var binary = atob(base64);
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes.buffer;
  }

  function toBase64url(buffer) {
    var bytes = new Uint8Array(buffer);
    var binary = '';
    for (var i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]);
    return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }

  function descriptors(list) {
    return (list || []).map(function (c) {
      return { type: 'public-key', id: toBuffer(c.id), transports: c.transports };
    });
  }

  function field(form, name) {
    return form.querySelector('input[name="' + name + '"]');
  }

  function showError(form) {
    var p = form.querySelector('.field-error');
    if (p) p.hidden = false;
  }

  // A fresh challenge from the server; it is bound to this browser by a short-lived cookie.
  function fetchOptions(form) {
    var body = new URLSearchParams();
    var csrf = field(form, '_csrf');
    if (csrf) body.set('_csrf', csrf.value);
    return fetch(form.getAttribute('data-options'), {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: body.toString(),
    }).then(function (res) {
      if (!res.ok) throw new Error('options ' + res.status);
      return res.json();
    });
  }

  function common(credential) {
    return {
      id: credential.id,
      rawId: toBase64url(credential.rawId),
      type: credential.type,
      clientExtensionResults: credential.getClientExtensionResults ? credential.getClientExtensionResults() : {},
      authenticatorAttachment: credential.authenticatorAttachment || undefined,
    };
  }

  var signIn = document.getElementById('passkey-form');
  if (signIn) {
    signIn.hidden = false;
    var running = null;
    var run = function (mediation) {
      if (running) running.abort();
      var controller = new AbortController();
      running = controller;
      return fetchOptions(signIn)
        .then(function (o) {
          var request = {
            publicKey: {
              challenge: toBuffer(o.challenge),
              rpId: o.rpId,
              timeout: o.timeout,
              userVerification: o.userVerification,
              allowCredentials: descriptors(o.allowCredentials),
            },
            signal: controller.signal,
          };
          if (mediation) request.mediation = mediation;
          return navigator.credentials.get(request);
        })
        .then(
          function (credential) {
            if (!credential) return;
            var r = credential.response;
            var json = common(credential);
            json.response = {
              clientDataJSON: toBase64url(r.clientDataJSON),
              authenticatorData: toBase64url(r.authenticatorData),
              signature: toBase64url(r.signature),
              userHandle: r.userHandle ? toBase64url(r.userHandle) : undefined,
            };
            field(signIn, 'credential').value = JSON.stringify(json);
            var remember = document.getElementById('remember');
            field(signIn, 'remember').value = remember && remember.checked ? '1' : '';
            signIn.submit();
          },
          function (error) {
            // The autofill request is aborted whenever the button starts another one: not a failure.
            if (!mediation && !(error && error.name === 'AbortError')) showError(signIn);
          },
        );
    };
    document.getElementById('passkey-sign-in').addEventListener('click', function () {
      run(null);
    });
    if (document.getElementById('login') && PublicKeyCredential.isConditionalMediationAvailable) {
      PublicKeyCredential.isConditionalMediationAvailable().then(function (available) {
        if (available) run('conditional');
      });
    }
  }

  var add = document.getElementById('passkey-add');
  if (add) {
    add.hidden = false;
    document.getElementById('passkey-add-button').addEventListener('click', function () {
      var name = field(add, 'name');
      if (name.value.trim() === '') {
        name.reportValidity();
        return;
      }
      fetchOptions(add)
        .then(function (o) {
          return navigator.credentials.create({
            publicKey: {
              challenge: toBuffer(o.challenge),
              rp: o.rp,
              user: { id: toBuffer(o.user.id), name: o.user.name, displayName: o.user.displayName },
              pubKeyCredParams: o.pubKeyCredParams,
              timeout: o.timeout,
              attestation: o.attestation,
              authenticatorSelection: o.authenticatorSelection,
              excludeCredentials: descriptors(o.excludeCredentials),
              extensions: o.extensions,
            },
          });
        })
        .then(
          function (credential) {
            var r = credential.response;
            var json = common(credential);
            json.response = {
              clientDataJSON: toBase64url(r.clientDataJSON),
              attestationObject: toBase64url(r.attestationObject),
              transports: r.getTransports ? r.getTransports() : [],
            };
            field(add, 'credential').value = JSON.stringify(json);
            add.submit();
          },
          function () {
            showError(add);
          },
        );
    });
  }
})();

// Security keys and passkeys (SPEC §11): the browser's half of a WebAuthn ceremony.
// A button [data-webauthn="<purpose>"] (register, login, passkey, disable, confirm, regenerate)
// asks the server for options, hands them to the browser's WebAuthn prompt and submits the
// signed answer in the hidden "credential" input of its form. The server checks everything;
// this file only carries.
(function () {
  "use strict";

  var NO_WEBAUTHN = "This browser cannot use security keys or passkeys (WebAuthn is not " +
    "available). Use a current browser, and open the panel over HTTPS or at http://localhost.";
  var CANCELLED = "The security key prompt was cancelled or timed out, or no registered key " +
    "answered. Try again.";

  function supported() {
    return !!(window.PublicKeyCredential && navigator.credentials &&
      typeof navigator.credentials.create === "function");
  }

  function toBytes(text) {
    var base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    while (base64.length % 4) base64 += "=";
    var raw = atob(base64), bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes.buffer;
  }

  function toText(buffer) {
    var bytes = new Uint8Array(buffer), raw = "";
    for (var i = 0; i < bytes.length; i++) raw += String.fromCharCode(bytes[i]);
    return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  // The options arrive as JSON (base64url strings); the browser wants ArrayBuffers.
  function creationOptions(json) {
    // credProps: the browser says whether the key keeps the account (a passkey).
    json = Object.assign({}, json, {
      extensions: Object.assign({}, json.extensions, { credProps: true })
    });
    if (PublicKeyCredential.parseCreationOptionsFromJSON) {
      return PublicKeyCredential.parseCreationOptionsFromJSON(json);
    }
    var options = Object.assign({}, json);
    options.challenge = toBytes(json.challenge);
    options.user = Object.assign({}, json.user, { id: toBytes(json.user.id) });
    options.excludeCredentials = (json.excludeCredentials || []).map(function (c) {
      return Object.assign({}, c, { id: toBytes(c.id) });
    });
    return options;
  }

  function requestOptions(json) {
    if (PublicKeyCredential.parseRequestOptionsFromJSON) {
      return PublicKeyCredential.parseRequestOptionsFromJSON(json);
    }
    var options = Object.assign({}, json);
    options.challenge = toBytes(json.challenge);
    options.allowCredentials = (json.allowCredentials || []).map(function (c) {
      return Object.assign({}, c, { id: toBytes(c.id) });
    });
    return options;
  }

  function answerJSON(credential) {
    if (typeof credential.toJSON === "function") return credential.toJSON();
    var r = credential.response, response = { clientDataJSON: toText(r.clientDataJSON) };
    if (r.attestationObject) {
      response.attestationObject = toText(r.attestationObject);
      response.transports = r.getTransports ? r.getTransports() : [];
    } else {
      response.authenticatorData = toText(r.authenticatorData);
      response.signature = toText(r.signature);
      if (r.userHandle) response.userHandle = toText(r.userHandle);
    }
    return {
      id: credential.id, rawId: toText(credential.rawId), type: credential.type,
      response: response, clientExtensionResults: credential.getClientExtensionResults(),
      authenticatorAttachment: credential.authenticatorAttachment || undefined
    };
  }

  function explain(error) {
    switch (error && error.name) {
      case "NotAllowedError": case "AbortError": return CANCELLED;
      case "InvalidStateError": return "This security key is already registered.";
      case "SecurityError":
        return "The browser refused: security keys need HTTPS (or http://localhost) and the " +
          "panel's own host name.";
      case "NotSupportedError": return "This security key does not support what the panel asks.";
      default: return "The security key could not be used. Try again.";
    }
  }

  function wire(button) {
    var form = document.getElementById(button.getAttribute("data-form"));
    var status = document.getElementById(button.getAttribute("data-status"));
    var purpose = button.getAttribute("data-webauthn");
    function say(text) {
      if (!status) return;
      status.textContent = text;
      status.hidden = !text;
    }
    if (!form) return;
    if (!supported()) {
      var focused = document.activeElement === button;
      button.disabled = true;
      say(NO_WEBAUTHN);
      // the recovery code's input is the way left (an account with only keys had the button)
      var challenge = document.getElementById("id_challenge");
      if (focused && challenge) challenge.focus();
      return;
    }
    button.addEventListener("click", function (event) {
      event.preventDefault();
      say("");
      // Confirm access sends the password with the key's answer: ask for it before the prompt.
      var password = form.querySelector("input[type=password]");
      if (password && !password.value) {
        say("Enter your password first, then use your security key.");
        password.focus();
        return;
      }
      var body = new FormData();
      body.append("csrfmiddlewaretoken", form.elements.namedItem("csrfmiddlewaretoken").value);
      body.append("purpose", purpose);
      var name = form.elements.namedItem("name");
      if (name) body.append("name", name.value);
      button.disabled = true;
      fetch(button.getAttribute("data-options-url"), {
        method: "POST", body: body, credentials: "same-origin",
        headers: { "Accept": "application/json" }
      }).then(function (reply) {
        return reply.json().then(function (data) {
          if (data.confirm_url) window.location.assign(data.confirm_url);
          if (!reply.ok) throw { message: data.message || "The request was refused." };
          return data.options;
        });
      }).then(function (options) {
        say(purpose === "register" ? "Touch your security key or follow your browser's prompt."
          : "Use your security key or passkey now.");
        return purpose === "register"
          ? navigator.credentials.create({ publicKey: creationOptions(options) })
          : navigator.credentials.get({ publicKey: requestOptions(options) });
      }).then(function (credential) {
        if (!credential) throw { message: CANCELLED };
        form.elements.namedItem("credential").value = JSON.stringify(answerJSON(credential));
        say("Checking…");
        form.submit();
      }).catch(function (error) {
        button.disabled = false;
        say(error && error.message && !error.name ? error.message : explain(error));
      });
    });
  }

  function start() {
    document.querySelectorAll("[data-webauthn]").forEach(wire);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();

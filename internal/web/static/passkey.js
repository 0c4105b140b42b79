// passkey.js: the site's only script. It runs the passkey forms, each
// marked data-passkey="register|signin|second-factor|reauth" and hidden
// until this script shows it: every other part of the page works without
// it. Each action is two JSON requests to the site, with the form's CSRF
// token in X-CSRF-Token: "begin" returns the options for the browser's
// WebAuthn call, "finish" checks the browser's answer and says where to
// go next. The page's CSP enforces Trusted Types with no policy, so this
// script writes text only (textContent), never HTML.
"use strict";

(function () {
  // Where each kind of form begins and finishes its ceremony.
  const endpoints = {
    register: "/account/passkeys",
    signin: "/login/passkey",
    "second-factor": "/login/2fa/passkey",
    reauth: "/account/reauth/passkey",
  };

  // A browser without WebAuthn's JSON helpers (older ones) can't run a
  // ceremony: the forms stay hidden and the page works as without scripts.
  if (!window.PublicKeyCredential ||
      typeof PublicKeyCredential.parseCreationOptionsFromJSON !== "function" ||
      typeof PublicKeyCredential.parseRequestOptionsFromJSON !== "function") {
    return;
  }

  // A refusal from the site: its message, and a page to go to when the
  // refusal needs one (the session ended, the sign-in is no longer
  // recent).
  class Refusal extends Error {
    constructor(message, redirect) {
      super(message);
      this.redirect = redirect;
    }
  }

  // sameSitePath accepts only a path on this site, as the server's
  // answers are: never another origin, never a scheme.
  function sameSitePath(p) {
    return typeof p === "string" && p.startsWith("/") && !p.startsWith("//") && !p.startsWith("/\\");
  }

  async function post(form, path, body) {
    const res = await fetch(path, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Accept": "application/json",
        "Content-Type": "application/json",
        "X-CSRF-Token": form.elements._csrf.value,
      },
      body: JSON.stringify(body),
    });
    let answer = {};
    try {
      answer = await res.json();
    } catch {
      // Not JSON (a proxy's error page): the generic message below.
    }
    if (!res.ok) {
      throw new Refusal(answer.error || "Something went wrong. Reload the page and try again.", answer.redirect);
    }
    return answer;
  }

  // explain turns a failed WebAuthn call into words for the person.
  function explain(err) {
    if (err instanceof Refusal) {
      return err.message;
    }
    switch (err && err.name) {
      case "NotAllowedError":
        return "No passkey was used: the request was cancelled or timed out.";
      case "InvalidStateError":
        return "This device already keeps a passkey for your account.";
      case "SecurityError":
        return "Passkeys can't be used at this address.";
      default:
        return "Your browser could not use a passkey. Try again, or use another way.";
    }
  }

  async function run(form, status) {
    const kind = form.dataset.passkey;
    const base = endpoints[kind];
    const fields = {};
    if (form.elements.name) {
      fields.name = form.elements.name.value;
    }
    if (form.elements.next) {
      fields.next = form.elements.next.value;
    }
    const begun = await post(form, base + "/begin", fields);
    status.textContent = "Waiting for your passkey…";
    let credential;
    if (kind === "register") {
      credential = await navigator.credentials.create({
        publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(begun.publicKey),
      });
    } else {
      credential = await navigator.credentials.get({
        publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(begun.publicKey),
      });
    }
    status.textContent = "Checking…";
    fields.credential = credential.toJSON();
    const done = await post(form, base + "/finish", fields);
    if (sameSitePath(done.redirect)) {
      window.location.assign(done.redirect);
    }
  }

  for (const form of document.querySelectorAll("form[data-passkey]")) {
    if (!(form.dataset.passkey in endpoints)) {
      continue;
    }
    const status = form.querySelector(".passkey-status");
    const button = form.querySelector("button");
    form.hidden = false;
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      button.disabled = true;
      status.textContent = "";
      try {
        await run(form, status);
      } catch (err) {
        status.textContent = explain(err);
        if (err instanceof Refusal && sameSitePath(err.redirect)) {
          window.location.assign(err.redirect);
        }
      } finally {
        button.disabled = false;
      }
    });
  }
})();

// The built-in pages the e-mail links lead to when an app names no page of its own: they read
// the link's token, take it out of the address bar, and call the API on this same origin.
"use strict";
(function () {
  const page = document.body.dataset.page;
  const token = new URLSearchParams(location.search).get("token") || "";
  history.replaceState(null, "", location.pathname);
  const $ = (id) => document.getElementById(id);
  const say = (text, kind) => {
    const box = $("status");
    box.textContent = text;
    box.className = kind || "";
  };
  const call = async (method, path, body) => {
    const response = await fetch(path, {
      method,
      headers: body ? { "content-type": "application/json" } : {},
      body: body ? JSON.stringify(body) : undefined,
    });
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) {
      const error = answer.error || {};
      const detail = (error.details || []).map((d) => d.message).join("; ");
      throw new Error(detail ? `${error.message}: ${detail}` : error.message || `HTTP ${response.status}`);
    }
    return answer.data;
  };
  if (!token) {
    say("This link has no token. Open the link from the e-mail again.", "error");
    return;
  }
  if (page === "verify-email") {
    call("POST", "/v1/auth/verify-email", { token })
      .then((data) => say(`${data.email} is verified. You can close this page.`, "ok"))
      .catch((error) => say(error.message, "error"));
    return;
  }
  const form = $("form");
  if (page === "reset-password") {
    form.hidden = false;
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      call("POST", "/v1/auth/password/reset", { token, new_password: $("password").value })
        .then(() => {
          form.hidden = true;
          say("Your password is changed. Log in with it; every other session has ended.", "ok");
        })
        .catch((error) => say(error.message, "error"));
    });
    return;
  }
  if (page === "accept-invite") {
    call("GET", `/v1/invites/${encodeURIComponent(token)}`)
      .then((invite) => {
        $("title").textContent = `Join ${invite.organization_name || invite.app_name}`;
        const who = invite.inviter ? `${invite.inviter} invites` : "You are invited:";
        say(`${who} ${invite.email} to ${invite.organization_name || invite.app_name} on ${invite.app_name} as ${invite.role}.`);
        if (invite.status !== "pending") {
          say(`This invitation is ${invite.status}.`, "error");
          return;
        }
        if (invite.account_exists) {
          say(`${invite.email} has an account: log in on ${invite.app_name}'s site and accept the invitation there.`);
          return;
        }
        form.hidden = false;
        form.addEventListener("submit", (event) => {
          event.preventDefault();
          const name = $("name").value.trim();
          call("POST", "/v1/invites/accept", { token, password: $("password").value, ...(name ? { name } : {}) })
            .then(() => {
              form.hidden = true;
              say(`Welcome! You are a member of ${invite.organization_name || invite.app_name}. Log in on ${invite.app_name}'s site.`, "ok");
            })
            .catch((error) => say(error.message, "error"));
        });
      })
      .catch((error) => say(error.message, "error"));
  }
})();

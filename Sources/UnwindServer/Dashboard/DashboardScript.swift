enum DashboardScript {
    // Plain ES2017, no framework and no build step. Every value from the API reaches the page through
    // textContent/attributes set by `el()`, never through innerHTML; control characters are shown escaped.
    static let js = #"""
    "use strict";
    (function () {
      const TOKEN_KEY = "unwind.apiToken";
      const STATES = ["scheduled", "running", "compensating", "succeeded", "compensated", "failed", "compensation_failed", "cancelled"];
      const FINISHED = new Set(["succeeded", "compensated", "cancelled"]);
      const main = document.getElementById("main");
      let timer = null;

      // ---------- helpers ----------
      function visible(value) {
        // Show control characters (including bidi overrides) as \u{..} rather than letting them act; newlines and
        // tabs stay (they are only whitespace in HTML, and pretty-printed JSON needs them).
        return String(value).replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g,
          (c) => "\\u{" + c.charCodeAt(0).toString(16) + "}");
      }
      function el(tag, attrs, ...children) {
        const node = document.createElement(tag);
        for (const [key, value] of Object.entries(attrs || {})) {
          if (value === undefined || value === null || value === false) continue;
          if (key === "class") node.className = value;
          else if (key === "text") node.textContent = visible(value);
          else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
          else node.setAttribute(key, String(value));
        }
        for (const child of children.flat()) {
          if (child === null || child === undefined || child === false) continue;
          node.append(child instanceof Node ? child : document.createTextNode(visible(child)));
        }
        return node;
      }
      function token() { return sessionStorage.getItem(TOKEN_KEY) || ""; }
      async function api(path, options) {
        const headers = { "Accept": "application/json" };
        if (token()) headers["Authorization"] = "Bearer " + token();
        const init = Object.assign({ cache: "no-store", headers: headers }, options || {});
        if (init.body !== undefined) { headers["Content-Type"] = "application/json"; init.body = JSON.stringify(init.body); }
        const response = await fetch(path, init);
        let body = null;
        try { body = await response.json(); } catch (e) { body = null; }
        if (!response.ok) {
          const error = new Error(body && body.error ? body.error.message : ("HTTP " + response.status));
          error.status = response.status;
          throw error;
        }
        return body;
      }
      function duration(seconds) {
        if (seconds === null || seconds === undefined) return "-";
        if (seconds < 1) return Math.round(seconds * 1000) + "ms";
        if (seconds < 60) return seconds.toFixed(1) + "s";
        const total = Math.floor(seconds);
        return total < 3600 ? Math.floor(total / 60) + "m" + (total % 60) + "s" : Math.floor(total / 3600) + "h" + Math.floor((total % 3600) / 60) + "m";
      }
      function time(iso) { return iso ? iso.replace("T", " ").replace("Z", " UTC") : "-"; }
      function badge(state) { return el("span", { class: "badge s-" + String(state).replace(/[^a-z_]/g, ""), text: state }); }
      function status(text, bad) {
        const line = document.getElementById("status-line");
        if (line) { line.textContent = visible(text); line.className = bad ? "error" : "muted"; }
      }
      function schedule(ms) { clearTimeout(timer); timer = setTimeout(route, ms); }
      function replaceMain(...nodes) {
        const line = el("p", { id: "status-line", class: "muted", role: "status" });
        main.replaceChildren(line, ...nodes.flat().filter((n) => n !== null && n !== undefined && n !== false));
      }
      function failure(error) {
        if (error.status === 401 || error.status === 403) {
          status(error.message + " — enter the API token above.", true);
        } else {
          status("could not load: " + error.message + " (retrying)", true);
        }
      }

      // ---------- token ----------
      function setupToken() {
        const form = document.getElementById("token-form");
        const input = document.getElementById("token-input");
        const state = document.getElementById("token-state");
        const show = () => { state.textContent = token() ? "token set for this tab" : "no token"; };
        form.addEventListener("submit", (event) => {
          event.preventDefault();
          if (input.value.trim()) sessionStorage.setItem(TOKEN_KEY, input.value.trim());
          input.value = "";
          show();
          route();
        });
        document.getElementById("token-forget").addEventListener("click", () => { sessionStorage.removeItem(TOKEN_KEY); show(); route(); });
        show();
      }

      // ---------- list page ----------
      async function listPage() {
        const params = new URLSearchParams(location.search);
        const state = STATES.includes(params.get("state")) ? params.get("state") : null;
        const offset = Math.max(0, parseInt(params.get("offset") || "0", 10) || 0);
        try {
          const query = new URLSearchParams({ limit: "50", offset: String(offset) });
          if (state) query.set("state", state);
          const [counts, page] = await Promise.all([api("/api/v1/counts"), api("/api/v1/workflows?" + query)]);
          const filters = el("nav", { class: "filters", id: "state-filters", "aria-label": "filter by state" },
            el("a", { href: "/", class: state ? "" : "active", "data-state": "all" }, "all", el("span", { class: "count", text: counts.total })),
            STATES.map((s) => el("a", { href: "/?state=" + s, class: state === s ? "active" : "", "data-state": s },
              s, el("span", { class: "count", text: counts.counts[s] || 0 }))));
          const rows = page.workflows.map((w) => el("tr", { class: "workflow-row", "data-id": w.id.toLowerCase() },
            el("td", { class: "mono" }, el("a", { href: "/workflows/" + encodeURIComponent(w.id.toLowerCase()), text: w.id.toLowerCase().slice(0, 8) })),
            el("td", { text: w.workflow }),
            el("td", {}, badge(w.state)),
            el("td", { text: w.steps_done + "/" + w.steps_total }),
            el("td", { class: "mono nowrap", text: time(w.created_at) }),
            el("td", { text: w.submitted_by }),
            el("td", { class: "mono", text: Object.keys(w.labels || {}).sort().map((k) => k + "=" + w.labels[k]).join(" ") })));
          const table = el("table", { id: "workflow-table" },
            el("thead", {}, el("tr", {}, ["ID", "Workflow", "State", "Steps", "Created", "By", "Labels"].map((h) => el("th", { text: h })))),
            el("tbody", {}, rows.length ? rows : el("tr", {}, el("td", { colspan: "7", class: "muted", text: "no workflows" + (state ? " in state " + state : "") }))));
          const pager = el("div", { class: "pager" },
            offset > 0 ? el("a", { href: "/?" + new URLSearchParams(Object.assign(state ? { state } : {}, { offset: String(Math.max(0, offset - 50)) })), text: "← newer" }) : null,
            page.next_offset !== null ? el("a", { href: "/?" + new URLSearchParams(Object.assign(state ? { state } : {}, { offset: String(page.next_offset) })), text: "older →" }) : null);
          replaceMain(el("h1", { text: "Workflows" }), filters, table, pager);
          status("updated " + new Date().toLocaleTimeString() + " · refreshes every 3 s");
          document.body.setAttribute("data-loaded", "true");
        } catch (error) { failure(error); }
        schedule(3000);
      }

      // ---------- workflow page ----------
      let lastNotice = null;
      function resourceLists(output) {
        // Per-resource results a step reports: every array of strings in its output (released, unsubscribed, …).
        if (!output || typeof output !== "object" || Array.isArray(output)) return null;
        const items = Object.keys(output).sort().filter((k) => Array.isArray(output[k]) && output[k].length && output[k].every((v) => typeof v === "string"))
          .map((k) => el("li", {}, el("strong", { text: k.replace(/_/g, " ") + ": " }), output[k].join(", ")));
        return items.length ? el("ul", { class: "resources" }, items) : null;
      }
      function stepItem(step, longest) {
        const facts = [step.phase === "compensate" ? "compensation" : null, "attempt " + step.attempt, "took " + duration(step.duration_seconds),
          step.started_at ? "started " + time(step.started_at) : null,
          (step.state === "ready" || step.state === "waiting") && step.due_at ? "next try " + time(step.due_at) : null].filter(Boolean).join(" · ");
        const width = step.duration_seconds && longest > 0 ? Math.max(1, Math.round(100 * step.duration_seconds / longest)) : 0;
        // A step that succeeded after a failed attempt keeps that error on record; show it, but as history.
        const settled = step.state === "succeeded" || step.state === "skipped";
        const error = step.last_error ? el("div", { class: settled ? "step-error earlier" : "step-error" },
          settled ? "earlier attempt: " : null,
          step.last_error.code ? el("span", { class: "mono", text: "[" + step.last_error.code + "] " }) : null,
          step.last_error.message !== undefined ? String(step.last_error.message) : JSON.stringify(step.last_error)) : null;
        const bar = el("div", { class: "durbar" }, el("span", {}));
        bar.firstChild.style.width = width + "%";
        return el("li", { class: "step t-" + String(step.state).replace(/[^a-z_]/g, ""), "data-step": step.step_id, "data-state": step.state },
          el("div", { class: "step-head" }, el("span", { class: "step-name", text: step.step_id }), badge(step.state), el("span", { class: "step-facts", text: facts })),
          width ? bar : null,
          step.progress ? el("div", { class: "progress", text: step.progress }) : null,
          error,
          resourceLists(step.output));
      }
      function actionForms(doc) {
        const w = doc.workflow;
        const id = w.id.toLowerCase();
        const failedSteps = doc.steps.filter((s) => s.state === "failed").map((s) => s.step_id);
        const forms = [];
        function form(name, title, extra, button, buttonClass) {
          const reason = el("input", { type: "text", name: "reason", required: "required", placeholder: "why (recorded in the history)", id: name + "-reason", maxlength: "2000" });
          const actor = el("input", { type: "text", name: "actor", placeholder: "your name (optional)", id: name + "-actor", maxlength: "64" });
          const node = el("form", { class: "card", id: name + "-form", "data-action": name },
            el("strong", { text: title }), ...extra.map((e) => e.node), el("label", { for: name + "-reason", text: "Reason" }), reason, actor,
            el("button", { type: "submit", class: buttonClass, id: name + "-submit", text: button }));
          node.addEventListener("submit", async (event) => {
            event.preventDefault();
            const body = { reason: reason.value };
            if (actor.value.trim()) body.actor = actor.value.trim();
            for (const e of extra) { const v = e.value(); if (v !== undefined) body[e.field] = v; }
            try {
              const result = await api("/api/v1/workflows/" + encodeURIComponent(id) + "/" + name, { method: "POST", body: body });
              lastNotice = { text: name + " accepted: workflow is now " + result.state, bad: false };
            } catch (error) {
              lastNotice = { text: name + " refused: " + error.message, bad: true };
            }
            workflowPage();
          });
          forms.push(node);
        }
        if (doc.actions.includes("resume")) {
          const from = el("input", { type: "text", name: "from_step", placeholder: "from step (optional)", id: "resume-from" });
          form("resume", "Resume", [{ node: from, field: "from_step", value: () => from.value.trim() || undefined }], "Resume", "primary");
        }
        if (doc.actions.includes("skip") && failedSteps.length) {
          const select = el("select", { name: "step", id: "skip-step" }, failedSteps.map((s) => el("option", { value: s, text: s })));
          form("skip", "Skip a failed step", [{ node: select, field: "step", value: () => select.value }], "Skip step", "");
        }
        if (doc.actions.includes("cancel")) {
          const force = el("input", { type: "checkbox", name: "force", id: "cancel-force" });
          const label = el("label", {}, force, w.pivot_crossed ? " force (past the point of no return: what remains is left undone)" : " force");
          form("cancel", "Cancel", [{ node: label, field: "force", value: () => force.checked || undefined }], "Cancel workflow", "danger");
        }
        return forms.length ? [el("h2", { text: "Operator actions" }), el("div", { class: "actions", id: "actions" }, forms)] : [];
      }
      function eventTable(events) {
        const rows = events.slice().reverse().map((e) => {
          const details = [e.reason, e.details !== undefined && e.details !== null ? JSON.stringify(e.details) : null].filter(Boolean).join(" · ");
          return el("tr", { class: "event-row", "data-kind": e.kind },
            el("td", { class: "mono", text: e.id }), el("td", { class: "mono", text: time(e.at) }), el("td", { text: e.kind }),
            el("td", { class: "mono", text: (e.step_id || "") + (e.phase === "compensate" ? " (compensation)" : "") }),
            el("td", { text: e.attempt !== undefined && e.attempt !== null ? e.attempt : "" }),
            el("td", { text: e.actor || e.worker_id || "" }),
            el("td", { class: "mono details", text: details.length > 400 ? details.slice(0, 400) + "…" : details }));
        });
        return el("table", { id: "events" },
          el("thead", {}, el("tr", {}, ["#", "At", "Event", "Step", "Attempt", "By", "Details"].map((h) => el("th", { text: h })))),
          el("tbody", {}, rows));
      }
      async function workflowPage() {
        const id = decodeURIComponent(location.pathname.split("/").pop() || "");
        try {
          const doc = await api("/api/v1/workflows/" + encodeURIComponent(id));
          // Refreshes rebuild the page; keep what the operator opened.
          const inputOpen = !!(document.getElementById("input-details") || {}).open;
          const w = doc.workflow;
          const longest = Math.max(0, ...doc.steps.map((s) => s.duration_seconds || 0));
          const end = w.finished_at ? new Date(w.finished_at) : new Date();
          const began = new Date(w.started_at || w.created_at);
          const meta = el("dl", { class: "meta card", id: "workflow-meta" },
            el("dt", { text: "state" }), el("dd", {}, badge(w.state), w.pivot_crossed ? "  past the point of no return" : ""),
            el("dt", { text: "id" }), el("dd", { class: "mono", text: w.id.toLowerCase() }),
            el("dt", { text: "definition" }), el("dd", { class: "mono", text: String(w.definition_hash).slice(0, 12) }),
            el("dt", { text: "submitted" }), el("dd", { text: time(w.created_at) + " by " + w.submitted_by }),
            el("dt", { text: "duration" }), el("dd", { text: duration((end - began) / 1000) + (w.finished_at ? "" : " so far") }),
            w.not_before ? [el("dt", { text: "not before" }), el("dd", { text: time(w.not_before) })] : null,
            Object.keys(w.labels || {}).length ? [el("dt", { text: "labels" }), el("dd", { class: "mono", text: Object.keys(w.labels).sort().map((k) => k + "=" + w.labels[k]).join(" ") })] : null,
            // The input can be long: one line to glance at, the whole of it one click away.
            el("dt", { text: "input" }), el("dd", {}, el("details", { id: "input-details", open: inputOpen ? "open" : null },
              el("summary", { text: JSON.stringify(w.input).slice(0, 160) }),
              el("pre", { id: "workflow-input", text: JSON.stringify(w.input, null, 2) }))));
          const done = doc.steps.filter((s) => s.state === "succeeded" || s.state === "skipped").length;
          const notice = lastNotice ? el("div", { class: "notice" + (lastNotice.bad ? " bad" : ""), id: "action-notice", role: "alert", text: lastNotice.text }) : null;
          replaceMain(
            el("p", {}, el("a", { href: "/", text: "← all workflows" })),
            el("h1", { id: "workflow-title" }, w.workflow, " ", el("span", { class: "muted mono", text: w.id.toLowerCase().slice(0, 8) })),
            notice, meta,
            w.error && w.state !== "succeeded" ? el("div", { class: "notice bad", id: "workflow-error", text: "error: " + (w.error.message !== undefined ? w.error.message : JSON.stringify(w.error)) }) : null,
            ...actionForms(doc),
            el("h2", { text: "Steps (" + done + "/" + doc.steps.length + " done)" }),
            el("ol", { class: "timeline", id: "steps" }, doc.steps.map((s) => stepItem(s, longest))),
            w.output ? [el("h2", { text: "Result" }), el("pre", { class: "card", id: "workflow-output", text: JSON.stringify(w.output, null, 2) })] : null,
            el("h2", { text: "History (" + doc.events.length + " events, newest first)" }),
            eventTable(doc.events));
          document.title = w.workflow + " " + w.id.toLowerCase().slice(0, 8) + " · Unwind";
          status("updated " + new Date().toLocaleTimeString() + (FINISHED.has(w.state) ? "" : " · live, refreshes every 2 s"));
          document.body.setAttribute("data-loaded", "true");
          document.body.setAttribute("data-state", w.state);
          schedule(FINISHED.has(w.state) ? 15000 : 2000);
        } catch (error) {
          failure(error);
          schedule(3000);
        }
      }

      // Forms being typed into are not rebuilt under the operator's fingers: refreshes wait until focus leaves.
      function route() {
        const active = document.activeElement;
        if (active && active.closest && active.closest("#actions") && active.matches("input, select")) { schedule(2000); return; }
        if (document.body.getAttribute("data-page") === "workflow") workflowPage(); else listPage();
      }
      document.addEventListener("DOMContentLoaded", () => { setupToken(); route(); });
    })();
    """#
}

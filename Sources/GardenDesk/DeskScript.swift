/// The desk's only script (`/desk.js`, no CDN, no inline script so the CSP can forbid
/// inline code): the live feed. Events arrive by server-sent events, are shown newest
/// first with a colour per action, can be filtered by class, host and action and paused;
/// clicking one fetches its trace. A browser's background traffic (tunnels to hosts that
/// are not sites, connectivity and update checks, the PAC file) is hidden unless asked for.
enum DeskScript {
    static let source = #"""
    "use strict";
    (function () {
      const list = document.getElementById("events");
      if (!list) return;
      const status = document.getElementById("status");
      const trace = document.getElementById("trace");
      const pause = document.getElementById("pause");
      const filters = {
        cls: document.getElementById("filter-class"),
        host: document.getElementById("filter-host"),
        action: document.getElementById("filter-action"),
        background: document.getElementById("filter-background"),
      };
      // Hosts browsers talk to by themselves: connectivity checks, updates, telemetry.
      const backgroundDomains = ["gstatic.com", "googleapis.com", "google.com", "mozilla.com", "mozilla.net", "mozilla.org",
        "firefox.com", "msftconnecttest.com", "msftncsi.com", "apple.com", "windowsupdate.com", "microsoft.com"];

      function isBackground(event) {
        if (event.action === "proxy-config") return true;
        if (event.zone) return false;  // a site of the garden: what the lesson is about
        if (event.method === "CONNECT") return true;
        const host = event.host.toLowerCase();
        return backgroundDomains.some(domain => host === domain || host.endsWith("." + domain));
      }
      const kept = [];
      const limit = 500;
      let paused = false;
      let waiting = [];

      function visible(event) {
        if (!filters.background.checked && isBackground(event)) return false;
        if (filters.cls.value && event.class !== filters.cls.value) return false;
        if (filters.host.value && !event.host.includes(filters.host.value.toLowerCase())) return false;
        const action = filters.action.value;
        if (action === "censored") return !["allow", "proxy-config", "lab"].includes(event.action) || event.effects.includes("rewrite");
        if (action && event.action !== action) return false;
        return true;
      }

      function row(event) {
        const div = document.createElement("div");
        div.className = "a-" + event.action + (event.effects.includes("rewrite") ? " rewritten" : "");
        div.dataset.id = event.id;
        const time = event.time.slice(11, 23);
        const who = event.class + (event.account ? " (" + event.account + ")" : "");
        const shadow = event.shadow.length ? "  [shadow: " + event.shadow.map(s => s.rule + " would " + s.action).join(", ") + "]" : "";
        div.textContent = time + "  " + who.padEnd(12) + "  " + event.method + " " + event.url + "  → " + event.action +
          (event.rule ? " (" + event.rule + ")" : "") + "  " + event.status + (event.effects.length ? "  +" + event.effects.join(" +") : "") + shadow;
        div.hidden = !visible(event);
        return div;
      }

      function show(events) {
        for (const event of events) {
          kept.push(event);
          list.insertBefore(row(event), list.firstChild);
        }
        while (kept.length > limit) {
          kept.shift();
          list.removeChild(list.lastChild);
        }
      }

      function refilter() {
        const rows = list.children;
        for (let i = 0; i < rows.length; i++) {
          const event = kept[kept.length - 1 - i];
          if (event) rows[i].hidden = !visible(event);
        }
      }
      for (const input of Object.values(filters)) input.addEventListener("input", refilter);

      pause.addEventListener("click", () => {
        paused = !paused;
        pause.textContent = paused ? "Resume" : "Pause";
        if (!paused) { show(waiting); waiting = []; }
        status.textContent = paused ? "paused (" + waiting.length + " waiting)" : "live";
      });

      list.addEventListener("click", (click) => {
        const target = click.target.closest("div[data-id]");
        if (!target) return;
        trace.textContent = "…";
        fetch("/trace/" + target.dataset.id, { credentials: "same-origin" })
          .then(response => response.text())
          .then(text => { trace.textContent = text; })
          .catch(() => { trace.textContent = "The trace could not be fetched."; });
      });

      const source = new EventSource(list.dataset.feed);
      source.addEventListener("open", () => { status.textContent = paused ? "paused" : "live"; });
      source.addEventListener("error", () => { status.textContent = "reconnecting…"; });
      let skipped = 0;
      source.addEventListener("skipped", (message) => {
        skipped += Number(message.data);
        status.textContent = (paused ? "paused" : "live") + " (" + skipped + " events too fast to show)";
      });
      source.addEventListener("request", (message) => {
        const event = JSON.parse(message.data);
        if (paused) {
          waiting.push(event);
          status.textContent = "paused (" + waiting.length + " waiting)";
        } else {
          show([event]);
        }
      });
    })();
    """#
}

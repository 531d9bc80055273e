// kurz explorer: JSON forms (a value the API answers once shown in place), delete
// confirmation, search-as-you-type pickers (URLs and tags), and the live list of a URL's visits.
// Served by kurz itself (no CDN); the page's Content-Security-Policy allows only this script.
"use strict";

const csrfToken = () => document.querySelector('meta[name="csrf-token"]')?.content ?? "";

async function callApi(method, url, body) {
  const response = await fetch(url, {
    method,
    credentials: "same-origin",
    headers: {
      Accept: "application/json",
      "Content-Type": "application/json",
      "X-CSRF-Token": csrfToken(),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  const json = text ? JSON.parse(text) : null;
  if (!response.ok) {
    const fields = (json?.errors ?? []).map((e) => `${e.field}: ${e.reason}`).join("; ");
    throw new Error(fields || json?.detail || `HTTP ${response.status}`);
  }
  return json;
}

// A field's text as JSON: `data-json="number"` (a redirect status, a visit cap), `"utc"` (a
// datetime-local value, read as UTC), `"json"` (the rules), `"list"` (names separated by
// spaces or commas: the tags), `"raw"` (a password: as typed, spaces and all), otherwise the
// trimmed text.
function fieldValue(input) {
  const text = input.value.trim();
  switch (input.dataset.json) {
    case "list":
      return text.split(/[\s,]+/).filter((name) => name !== "");
    case "raw":
      return input.value;
    case "number":
      return Number(text);
    case "utc":
      return `${text.length === 16 ? `${text}:00` : text}Z`;
    case "json":
      try {
        return JSON.parse(text);
      } catch (error) {
        throw new Error(`${input.name}: not JSON (${error.message})`);
      }
    default:
      return text;
  }
}

// The JSON body of a create (POST) or edit (PATCH) form. Empty fields are left out of a
// create; an edit clears the empty ones marked `data-clearable`: null, or `[]` for a list;
// and a checked box marked `data-clears="field"` ("remove the password") clears that field.
// Checkboxes marked `data-json="set"` that share a name are one list of the checked values
// (a webhook's events).
function formBody(form, method) {
  const body = {};
  for (const input of form.querySelectorAll("input[name], select[name], textarea[name]")) {
    const typed = input.dataset.json === "raw" ? input.value : input.value.trim();
    if (input.type === "checkbox" && input.dataset.json === "set") {
      body[input.name] ??= [];
      if (input.checked) body[input.name].push(input.value);
    } else if (input.type === "checkbox" && input.dataset.clears) {
      if (input.checked) body[input.dataset.clears] = null;
    } else if (input.type === "checkbox") {
      body[input.name] = input.checked;
    } else if (typed !== "") {
      body[input.name] = fieldValue(input);
    } else if (method === "PATCH" && "clearable" in input.dataset) {
      body[input.name] = input.dataset.json === "list" ? [] : null;
    }
  }
  return body;
}

// Where a form goes once the API said yes: its `data-done` with each `{field}` taken from the
// answer (the created slug, the new tag name), or nowhere (the page reloads).
function pageAfter(form, result) {
  const template = form.dataset.done;
  if (!template) return null;
  return template.replace(/\{(\w+)\}/g, (_, field) => encodeURIComponent(result?.[field] ?? ""));
}

// A value the API answers only once (`data-reveal`: the field, a generated webhook secret):
// shown in the `[data-revealed]` element of the box `data-reveal-in` names, with the box's
// link set to where the form would have gone, instead of leaving the page and losing it. The
// form is emptied (and its last error cleared) for the next one.
function revealOnce(form, value, done) {
  const box = document.getElementById(form.dataset.revealIn);
  box.querySelector("[data-revealed]").textContent = value;
  const next = box.querySelector("a");
  if (next && done) next.href = done;
  box.hidden = false;
  form.reset();
  const output = form.querySelector("output");
  if (output) output.textContent = "";
}

function wireApiForm(form) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const method = form.dataset.apiMethod;
    const output = form.querySelector("output");
    if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) return;
    try {
      const body = method === "DELETE" ? undefined : formBody(form, method);
      const result = await callApi(method, form.getAttribute("action"), body);
      const done = pageAfter(form, result);
      const once = form.dataset.reveal ? result?.[form.dataset.reveal] : undefined;
      if (once) revealOnce(form, once, done);
      else if (done) window.location.assign(done);
      else window.location.reload();
    } catch (error) {
      if (output) output.textContent = error.message;
    }
  });
}

// What a picker searches (`data-source`): each a bounded endpoint, at most 10 results asked.
const PICKER_SOURCES = {
  urls: {
    search: (q) => `/api/urls/search?q=${encodeURIComponent(q)}&limit=10`,
    key: (url) => url.slug,
    attr: "slug",
    detail: (url) => ` → ${url.url}`,
    page: (slug) => `/api/urls/${encodeURIComponent(slug)}`,
    none: "No URL matches.",
  },
  tags: {
    search: (q) => `/api/tags?q=${encodeURIComponent(q)}&limit=10`,
    key: (tag) => tag.name,
    attr: "tag",
    detail: (tag) => ` · ${tag.links} ${tag.links === 1 ? "link" : "links"}`,
    page: (name) => `/api/tags/${encodeURIComponent(name)}`,
    none: "No tag matches.",
  },
};

// The URL list filtered by one more tag: the current filter kept, from the first page.
function listWithTag(name) {
  const params = new URLSearchParams(window.location.search);
  params.delete("cursor");
  if (!params.getAll("tag").includes(name)) params.append("tag", name);
  return `/api/urls?${params}`;
}

// A search-as-you-type box (`data-source`: urls or tags). "navigate" opens the chosen item's
// page; "fill" puts its key into the form's hidden field and submits the form; "filter" adds
// the chosen tag to the URL list's filter.
function wirePicker(picker) {
  const source = PICKER_SOURCES[picker.dataset.source ?? "urls"];
  const input = picker.querySelector('input[type="search"]');
  const results = picker.querySelector(".results");
  const hidden = picker.querySelector('input[type="hidden"]');
  let timer = null;
  let latest = 0;

  const choose = (key) => {
    if (picker.dataset.picker === "navigate") {
      window.location.assign(source.page(key));
    } else if (picker.dataset.picker === "filter") {
      window.location.assign(listWithTag(key));
    } else {
      hidden.value = key;
      input.value = key;
      results.replaceChildren();
      picker.closest("form")?.requestSubmit();
    }
  };

  const search = async () => {
    const q = input.value.trim();
    if (q === "") {
      results.replaceChildren();
      return;
    }
    const ticket = ++latest;
    try {
      const page = await callApi("GET", source.search(q));
      if (ticket !== latest) return;
      results.replaceChildren(
        ...page.items.map((found) => {
          const key = source.key(found);
          const item = document.createElement("li");
          const button = document.createElement("button");
          button.type = "button";
          button.className = "result";
          button.dataset[source.attr] = key;
          const name = document.createElement("strong");
          name.textContent = key;
          const detail = document.createElement("span");
          detail.textContent = source.detail(found);
          button.append(name, detail);
          button.addEventListener("click", () => choose(key));
          item.append(button);
          return item;
        }),
      );
      if (page.items.length === 0) {
        const empty = document.createElement("li");
        empty.className = "muted";
        empty.textContent = source.none;
        results.replaceChildren(empty);
      }
    } catch (error) {
      results.replaceChildren();
    }
  };

  input.addEventListener("input", () => {
    // What is typed is the filter until a result is chosen.
    if (hidden) hidden.value = input.value.trim();
    clearTimeout(timer);
    timer = setTimeout(search, 150);
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      event.preventDefault();
      const first = results.querySelector("button.result");
      if (first) choose(first.dataset[source.attr]);
    }
  });
}

// GET filter forms leave empty fields out of the query string.
function wireFilterForm(form) {
  form.addEventListener("submit", () => {
    for (const field of form.querySelectorAll("[name]")) {
      if (field.value === "") field.disabled = true;
    }
  });
}

// The URL page's live list: Server-Sent Events from GET /api/urls/{slug}/visits/live (same
// origin; EventSource reconnects by itself). Newest first, the last 50 kept.
const LIVE_KEPT = 50;

function describeVisit(visit) {
  const when = visit.visited_at.replace("T", " ").slice(0, 19);
  const parts = [visit.browser ?? "unknown browser", visit.os ?? "unknown OS", visit.device ?? "?"];
  if (visit.referrer_host) parts.push(`from ${visit.referrer_host}`);
  if (visit.is_bot) parts.push("bot");
  return `${when} · ${parts.join(" · ")}`;
}

function wireLive(section) {
  if (!window.EventSource) return;
  const status = section.querySelector("#live-status");
  const total = section.querySelector("#live-total");
  const list = section.querySelector("#live-visits");
  const source = new EventSource(section.dataset.liveSrc);
  const add = (text, className) => {
    const item = document.createElement("li");
    item.textContent = text;
    if (className) item.className = className;
    list.prepend(item);
    while (list.children.length > LIVE_KEPT) list.lastElementChild.remove();
  };
  source.addEventListener("open", () => { status.textContent = "● live"; });
  source.addEventListener("error", () => { status.textContent = "reconnecting…"; });
  source.addEventListener("totals", (event) => {
    total.textContent = JSON.parse(event.data).visits;
  });
  source.addEventListener("visit", (event) => {
    const { visit } = JSON.parse(event.data);
    total.textContent = Number(total.textContent) + 1;
    add(describeVisit(visit), "visit");
  });
  source.addEventListener("lagged", (event) => {
    add(`${JSON.parse(event.data).missed} visits skipped (the page fell behind)`, "muted");
  });
  window.addEventListener("pagehide", () => source.close());
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-live-src]").forEach(wireLive);
  document.querySelectorAll("form[data-api-method]").forEach(wireApiForm);
  document.querySelectorAll(".picker").forEach(wirePicker);
  document.querySelectorAll('form[method="get"]').forEach(wireFilterForm);
});

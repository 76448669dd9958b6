"use strict";
// The review page: the list comes from the server a page at a time (GET
// items), one item is shown, keyboard decisions are posted to the server.
// Keys and names are only ever set as text. A token given as ?token= on the
// page is sent as a header.
(() => {
  const token = new URLSearchParams(location.search).get("token") || "";
  const auth = token ? { Authorization: "Bearer " + token } : {};
  const root = document.getElementById("review");
  const total = Number(root.dataset.total);
  const pageSize = Number(root.dataset.pageSize);
  const view = document.getElementById("item");
  const message = document.getElementById("message");
  const full = document.getElementById("full");
  const other = document.getElementById("other-class");
  const keepPages = 5; // pages of items held, around the current one
  const keepImages = 12; // images held as object URLs
  const pages = new Map(); // page number → promise of its items
  const images = new Map(); // image URL → promise of an object URL, oldest first
  let cur = -1;
  let shown = null; // the item on screen
  let busy = false;
  let asked = 0; // requests sent, and the last whose count was shown
  let counted = 0;

  async function getJSON(url) {
    const r = await fetch(url, { headers: auth });
    if (!r.ok) throw new Error((await r.text()).trim() || r.statusText);
    return r.json();
  }

  // setDone shows the decided count of request seq unless a later one did.
  function setDone(seq, done) {
    if (seq < counted) return;
    counted = seq;
    document.getElementById("done-count").textContent = String(done);
  }

  function page(p) {
    if (!pages.has(p)) {
      const seq = ++asked;
      const pr = getJSON("items?from=" + p * pageSize + "&n=" + pageSize).then((r) => {
        setDone(seq, r.done);
        return r.items;
      });
      pr.catch(() => pages.delete(p));
      pages.set(p, pr);
      const far = [...pages.keys()].sort((a, b) => Math.abs(b - p) - Math.abs(a - p));
      for (const q of far.slice(0, Math.max(0, pages.size - keepPages))) pages.delete(q);
    }
    return pages.get(p);
  }

  async function itemAt(i) {
    const items = await page(Math.floor(i / pageSize));
    return items[i % pageSize];
  }

  function imageURL(key, size) {
    const url = "image?key=" + encodeURIComponent(key) + (size ? "&size=" + size : "");
    if (!images.has(url)) {
      const p = fetch(url, { headers: auth }).then(async (r) => {
        if (!r.ok) throw new Error((await r.text()).trim() || r.statusText);
        return URL.createObjectURL(await r.blob());
      });
      p.catch(() => images.delete(url));
      images.set(url, p);
      while (images.size > keepImages) {
        const [old, op] = images.entries().next().value;
        images.delete(old);
        op.then((u) => URL.revokeObjectURL(u), () => {});
      }
    }
    return images.get(url);
  }

  function el(tag, cls, ...children) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    e.append(...children);
    return e;
  }

  function statusOf(d) {
    if (!d) return ["Not reviewed yet"];
    return ["Done: ", el("b", "decision", d.decision + (d.class ? " " + d.class : "")), " by ", el("span", "who", d.reviewer), " at " + d.time];
  }

  function details(it) {
    if (it.error) return [el("p", "error", "Failed (" + it.error_reason + "): " + it.error)];
    const facts = el("p", "", "Predicted ", el("b", "predicted", it.class || "(unnamed class " + it.class_index + ")"),
      " · max prob " + it.max_prob.toFixed(3) + " · entropy (normalised) ", el("span", "entropy", it.entropy_norm.toFixed(3)));
    if (it.set_size !== undefined) facts.append(" · set size ", el("span", "set-size", String(it.set_size)));
    const classes = el("ol", "classes");
    it.top.forEach((c, j) => {
      const meter = document.createElement("meter");
      meter.min = 0; meter.max = 1; meter.value = c.prob;
      const li = el("li", c.class ? "" : "unnamed", el("kbd", "", String(j + 1)), " ", el("span", "name", c.class || "#" + c.index + " (no name)"),
        " ", meter, " " + c.prob.toFixed(3));
      li.dataset.class = c.class;
      if (it.decided && c.class && it.decided.class === c.class) li.classList.add("chosen");
      li.addEventListener("click", () => pick(c.class, c.index));
      classes.append(li);
    });
    const out = [facts, classes];
    if (it.set) out.push(el("p", "", "Prediction set: ", el("span", "set", it.set.join(", "))));
    return out;
  }

  function render(it) {
    shown = it;
    view.hidden = false;
    view.dataset.index = String(it.index);
    view.classList.toggle("done", !!it.decided);
    view.querySelector(".key").textContent = it.key;
    view.querySelector(".status").replaceChildren(...statusOf(it.decided));
    view.querySelector(".details").replaceChildren(...details(it));
    const box = view.querySelector(".image");
    box.replaceChildren(el("span", "placeholder", "loading…"));
    imageURL(it.key).then((src) => {
      if (shown !== it) return;
      const img = document.createElement("img");
      img.alt = it.key;
      img.src = src;
      box.replaceChildren(img);
    }, (err) => {
      if (shown === it) box.replaceChildren(el("span", "placeholder failed", "No image: " + err.message));
    });
  }

  async function show(i) {
    if (i < 0 || i >= total) return;
    cur = i;
    document.getElementById("position").textContent = String(i + 1);
    let it;
    try {
      it = await itemAt(i);
    } catch (err) {
      message.textContent = "Could not load the list: " + err.message;
      return;
    }
    if (cur !== i) return;
    render(it);
    if (i + 1 < total) itemAt(i + 1).then((n) => imageURL(n.key)).catch(() => {});
  }

  async function firstOpen() {
    try {
      const st = await getJSON("state");
      setDone(++asked, st.done);
      await show(st.first_open < 0 ? Math.max(cur, 0) : st.first_open);
      if (st.first_open < 0) message.textContent = "Every image is decided.";
    } catch (err) {
      message.textContent = "Could not read the state: " + err.message;
    }
  }

  async function decide(decision, cls) {
    if (busy || !shown) return;
    busy = true;
    const it = shown;
    const seq = ++asked;
    try {
      const r = await fetch("decision", {
        method: "POST",
        headers: { ...auth, "Content-Type": "application/json" },
        body: JSON.stringify({ key: it.key, decision, class: cls || "" }),
      });
      if (!r.ok) throw new Error((await r.text()).trim() || r.statusText);
      const d = await r.json();
      it.decided = { key: d.key, decision: d.decision, class: d.class, reviewer: d.reviewer, time: d.time };
      setDone(seq, d.done);
      message.textContent = "";
      if (shown === it) {
        if (it.index + 1 < total) show(it.index + 1);
        else render(it);
      }
    } catch (err) {
      message.textContent = "Not recorded: " + err.message;
    } finally {
      busy = false;
    }
  }

  function pick(cls, index) {
    if (!cls) message.textContent = "Class #" + index + " has no name in this job: pick a named class.";
    else decide("class", cls);
  }

  function openFull() {
    if (!shown) return;
    imageURL(shown.key, "full").then((src) => {
      full.querySelector("img").src = src;
      full.hidden = false;
    }, (err) => { message.textContent = "No full image: " + err.message; });
  }

  function onKey(e) {
    if (e.ctrlKey || e.metaKey || e.altKey || e.target === other) return;
    if (!full.hidden) {
      if (e.key === "Escape" || e.key === "Enter") { full.hidden = true; e.preventDefault(); }
      return;
    }
    switch (e.key) {
      case "ArrowRight": case "j": show(cur + 1); break;
      case "ArrowLeft": case "k": show(cur - 1); break;
      case "f": firstOpen(); break;
      case "c": break; // focused on keyup, so that the key types nothing
      case "Enter": case "a":
        if (shown && shown.class) decide("accept");
        else if (shown && !shown.error) message.textContent = "The predicted class has no name in this job: pick a named class.";
        else message.textContent = "This image has no prediction to accept.";
        break;
      case "u": decide("unsure"); break;
      default: {
        if (!/^[1-9]$/.test(e.key) || !shown) return;
        const c = shown.top[Number(e.key) - 1];
        if (!c) return;
        pick(c.class, c.index);
      }
    }
    e.preventDefault();
  }

  // The "any class" box suggests the job's names as one types.
  let suggested = 0;
  other.addEventListener("input", () => {
    const seq = ++suggested;
    getJSON("classes?q=" + encodeURIComponent(other.value)).then((r) => {
      if (seq !== suggested) return;
      const opts = r.classes.map((name) => { const o = document.createElement("option"); o.value = name; return o; });
      document.getElementById("class-list").replaceChildren(...opts);
    }, () => {});
  });
  other.addEventListener("keydown", (e) => {
    if (e.key === "Escape") { other.blur(); e.preventDefault(); }
    if (e.key !== "Enter" || !other.value) return;
    e.preventDefault();
    const cls = other.value;
    other.value = "";
    other.blur();
    decide("class", cls);
  });

  document.addEventListener("keydown", onKey);
  document.addEventListener("keyup", (e) => {
    if (e.key === "c" && e.target !== other && full.hidden && !(e.ctrlKey || e.metaKey || e.altKey)) other.focus();
  });
  // Enter is "accept": a click that a key made (detail 0) opens nothing.
  view.querySelector(".image").addEventListener("click", (e) => { if (e.detail > 0) openFull(); });
  document.getElementById("first-open").addEventListener("click", (e) => { e.currentTarget.blur(); firstOpen(); });
  full.addEventListener("click", () => { full.hidden = true; });
  if (total > 0) firstOpen();
})();

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
  const keepImages = 40; // images held as object URLs (a group shows up to 12 at once)
  const pages = new Map(); // page number → promise of its items
  const images = new Map(); // image URL → promise of an object URL, oldest first
  let cur = -1;
  let shown = null; // the entry on screen
  let member = 0; // the image of a group on screen
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

  // keyOf is the key of the image on screen: the entry's, or its group's
  // chosen member's.
  function keyOf(it) {
    return it.group ? it.group.members[member].key : it.key;
  }

  function keyOf0(it) { return it.group ? it.group.members[0].key : it.key; }

  function render(it) {
    if (shown !== it) member = 0;
    shown = it;
    view.hidden = false;
    view.dataset.index = String(it.index);
    view.classList.toggle("done", !!it.decided);
    view.classList.toggle("group", !!it.group);
    view.querySelector(".key").textContent = keyOf(it);
    view.querySelector(".status").replaceChildren(...(it.group ? groupStatus(it.group, it.decided) : statusOf(it.decided)));
    view.querySelector(".details").replaceChildren(...(it.group ? groupDetails(it) : details(it)));
    showImage(it);
  }

  // noImageOf says why the image on screen cannot be shown, if so.
  function noImageOf(it) {
    return it.group ? it.group.members[member].no_image : it.no_image;
  }

  function showImage(it) {
    const key = keyOf(it);
    const box = view.querySelector(".image");
    if (noImageOf(it)) {
      box.replaceChildren(el("span", "placeholder", noImageOf(it)));
      return;
    }
    box.replaceChildren(el("span", "placeholder", "loading…"));
    imageURL(key).then((src) => {
      if (shown !== it || keyOf(it) !== key) return;
      const img = document.createElement("img");
      img.alt = key;
      img.src = src;
      box.replaceChildren(img);
    }, (err) => {
      if (shown === it && keyOf(it) === key) box.replaceChildren(el("span", "placeholder failed", "No image: " + err.message));
    });
  }

  function groupStatus(g, d) {
    if (g.decided === g.count && d) return statusOf(d).concat(" (all " + g.count + " images)");
    return [g.decided + " of " + g.count + " images decided"];
  }

  function num(v) { return Number(v).toFixed(3); }

  // groupDetails shows a group: what it is, its classes (the keys and
  // clicks decide every image of it) and its images, most uncertain first.
  function groupDetails(it) {
    const g = it.group;
    const head = el("p", "group-head");
    if (g.kind === "study") {
      head.append("Study ", el("span", "uid", g.study_uid), " · " + g.count + " images for review");
      if (g.answer) {
        head.append(" of " + g.answer.images + " · study answer ", el("b", "answer", g.answer.class || "(unnamed)"),
          " p " + num(g.answer.max_prob) + ", entropy " + num(g.answer.entropy_norm) + (g.answer.review ? " · study flagged" : ""));
      }
    } else {
      head.append("Event in ", el("span", "uid", g.object + (g.topic ? " " + g.topic : "")),
        " · " + num(g.start) + "–" + num(g.end) + " s · " + g.count + " uncertain frames");
    }
    const classes = el("ol", "classes");
    g.top.forEach((c, j) => {
      const meter = document.createElement("meter");
      meter.min = 0; meter.max = 1; meter.value = c.prob;
      const li = el("li", c.class ? "" : "unnamed", el("kbd", "", String(j + 1)), " ", el("span", "name", c.class || "#" + c.index + " (no name)"),
        " ", meter, " " + c.prob.toFixed(3));
      if (it.decided && c.class && it.decided.class === c.class) li.classList.add("chosen");
      li.addEventListener("click", () => pick(c.class, c.index));
      classes.append(li);
    });
    const strip = el("div", "members");
    g.members.forEach((m, j) => {
      const b = el("button", "member" + (j === member ? " chosen" : "") + (m.decided ? " decided" : ""));
      b.type = "button";
      b.title = m.key + " · " + (m.class || "?") + " · entropy " + num(m.entropy_norm);
      b.dataset.key = m.key;
      b.append(el("span", "placeholder", String(j + 1)));
      if (!m.no_image) imageURL(m.key).then((src) => {
        const img = document.createElement("img");
        img.alt = m.key;
        img.src = src;
        b.replaceChildren(img);
      }, () => {});
      b.addEventListener("click", (e) => { e.currentTarget.blur(); choose(j); });
      strip.append(b);
    });
    const out = [head, el("p", "", "Label every image of this " + g.kind + " (keys as for one image; ", el("kbd", "", "["),
      "/", el("kbd", "", "]"), " other image):"), classes, strip];
    if (g.count > g.members.length) out.push(el("p", "more", "and " + (g.count - g.members.length) + " more, decided with them"));
    return out;
  }

  // choose shows image j of the group on screen.
  function choose(j) {
    if (!shown || !shown.group || j < 0 || j >= shown.group.members.length) return;
    member = j;
    view.querySelector(".key").textContent = keyOf(shown);
    view.querySelectorAll(".members .member").forEach((b, k) => b.classList.toggle("chosen", k === j));
    showImage(shown);
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
    if (i + 1 < total) itemAt(i + 1).then((n) => { if (!n.no_image) imageURL(keyOf0(n)); }).catch(() => {});
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
        body: JSON.stringify(it.group ? { group: it.group.id, decision, class: cls || "" } : { key: it.key, decision, class: cls || "" }),
      });
      if (!r.ok) throw new Error((await r.text()).trim() || r.statusText);
      const d = await r.json();
      it.decided = { key: d.key, decision: d.decision, class: d.class, reviewer: d.reviewer, time: d.time };
      if (it.group) {
        it.group.decided = it.group.count;
        for (const m of it.group.members) m.decided = it.decided;
      }
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
    if (!shown || noImageOf(shown)) return;
    imageURL(keyOf(shown), "full").then((src) => {
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
      case "[": choose(member - 1); break;
      case "]": choose(member + 1); break;
      case "Enter": case "a":
        if (shown && shown.group) {
          if (shown.group.class) decide("accept");
          else message.textContent = "The group's most probable class has no name in this job: pick a named class.";
        } else if (shown && shown.class) decide("accept");
        else if (shown && !shown.error) message.textContent = "The predicted class has no name in this job: pick a named class.";
        else message.textContent = "This image has no prediction to accept.";
        break;
      case "u": decide("unsure"); break;
      default: {
        if (!/^[1-9]$/.test(e.key) || !shown) return;
        const c = (shown.group ? shown.group.top : shown.top)[Number(e.key) - 1];
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

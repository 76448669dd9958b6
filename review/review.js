"use strict";
// The review page: one item at a time, keyboard decisions posted to the
// server. A token given as ?token= on the page is sent as a header.
(() => {
  const token = new URLSearchParams(location.search).get("token") || "";
  const auth = token ? { Authorization: "Bearer " + token } : {};
  const items = [...document.querySelectorAll("#items > .item")];
  const message = document.getElementById("message");
  const full = document.getElementById("full");
  const images = new Map(); // image URL → promise of an object URL
  let cur = -1;
  let busy = false;

  function imageURL(key, size) {
    const url = "image?key=" + encodeURIComponent(key) + (size ? "&size=" + size : "");
    if (!images.has(url)) {
      const p = fetch(url, { headers: auth }).then(async (r) => {
        if (!r.ok) throw new Error((await r.text()).trim() || r.statusText);
        return URL.createObjectURL(await r.blob());
      });
      p.catch(() => images.delete(url));
      images.set(url, p);
    }
    return images.get(url);
  }

  function loadImage(li) {
    const box = li.querySelector(".image");
    if (box.dataset.loaded) return;
    box.dataset.loaded = "1";
    imageURL(li.dataset.key).then((src) => {
      const img = document.createElement("img");
      img.alt = li.dataset.key;
      img.src = src;
      box.replaceChildren(img);
    }, (err) => {
      const span = document.createElement("span");
      span.className = "placeholder failed";
      span.textContent = "No image: " + err.message;
      box.replaceChildren(span);
    });
  }

  function show(i) {
    if (i < 0 || i >= items.length || i === cur) return;
    if (cur >= 0) items[cur].hidden = true;
    cur = i;
    items[cur].hidden = false;
    document.getElementById("position").textContent = String(cur + 1);
    loadImage(items[cur]);
    if (cur + 1 < items.length) loadImage(items[cur + 1]);
  }

  function markDone(li, d) {
    const status = li.querySelector(".status");
    const b = document.createElement("b");
    b.className = "decision";
    b.textContent = d.decision + (d.class ? " " + d.class : "");
    const who = document.createElement("span");
    who.className = "who";
    who.textContent = d.reviewer;
    status.replaceChildren("Done: ", b, " by ", who, " at " + d.time);
    for (const c of li.querySelectorAll(".classes li")) c.classList.toggle("chosen", c.dataset.class === d.class);
    if (!li.classList.contains("done")) {
      li.classList.add("done");
      const n = document.getElementById("done-count");
      n.textContent = String(Number(n.textContent) + 1);
    }
  }

  async function decide(decision, cls) {
    if (busy || cur < 0) return;
    busy = true;
    const li = items[cur];
    try {
      const r = await fetch("decision", {
        method: "POST",
        headers: { ...auth, "Content-Type": "application/json" },
        body: JSON.stringify({ key: li.dataset.key, decision, class: cls || "" }),
      });
      if (!r.ok) throw new Error((await r.text()).trim() || r.statusText);
      markDone(li, await r.json());
      message.textContent = "";
      if (li === items[cur]) show(cur + 1);
    } catch (err) {
      message.textContent = "Not recorded: " + err.message;
    } finally {
      busy = false;
    }
  }

  function openFull() {
    const li = items[cur];
    imageURL(li.dataset.key, "full").then((src) => {
      full.querySelector("img").src = src;
      full.hidden = false;
    }, (err) => { message.textContent = "No full image: " + err.message; });
  }

  document.addEventListener("keydown", (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (!full.hidden) {
      if (e.key === "Escape" || e.key === "Enter") { full.hidden = true; e.preventDefault(); }
      return;
    }
    const li = items[cur];
    switch (e.key) {
      case "ArrowRight": case "j": show(cur + 1); break;
      case "ArrowLeft": case "k": show(cur - 1); break;
      case "Enter": case "a":
        if (li && li.querySelector(".predicted")) decide("accept");
        else message.textContent = "This image has no prediction to accept.";
        break;
      case "u": decide("unsure"); break;
      default: {
        if (!/^[1-9]$/.test(e.key) || !li) return;
        const c = li.querySelectorAll(".classes li")[Number(e.key) - 1];
        if (!c) return;
        decide("class", c.dataset.class);
      }
    }
    e.preventDefault();
  });
  for (const li of items) {
    // Enter is "accept": a click that a key made (detail 0) opens nothing.
    li.querySelector(".image").addEventListener("click", (e) => { if (e.detail > 0) openFull(); });
    for (const c of li.querySelectorAll(".classes li")) c.addEventListener("click", () => decide("class", c.dataset.class));
  }
  full.addEventListener("click", () => { full.hidden = true; });

  const first = items.findIndex((li) => !li.classList.contains("done"));
  show(first < 0 ? 0 : first);
})();

/*
 * "Check my complaint" (查询办理进度): look a receipt code up in the published table.
 *
 * Everything happens in this browser. The typed code is normalized exactly as
 * complaints.receipt.normalize_code does (NFKC, no spaces or hyphens, upper case, I/L -> 1,
 * O -> 0, 16 Crockford base32 characters), then PBKDF2-HMAC-SHA256 with the site-wide salt and
 * the work factor(s) named in the index is derived by WebCrypto (no library, no other host).
 * The table is split into shards by the first bits of the hash (generated/receipts.json says
 * how many bits, generated/receipts/SHARD.json holds the rows): the page fetches the index and
 * the one shard the derived hash falls in, a few tens of kilobytes however large the archive.
 * The server learns only which shard, i.e. that the code is one of some hundreds of cases;
 * the code itself is sent nowhere.
 */
(function () {
  "use strict";

  var ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  var LENGTH = 16;
  var TEXT = {
    zh: {
      states: { received: "已登记", accepted: "已受理", in_progress: "办理中", resolved: "已办结", closed: "已归档（办理结束）" },
      state: "办理进度：",
      next: "下一步预计完成：",
      nextNone: "目前没有待完成的承诺时限。",
      overdue: "下一步已超过承诺时限，仍在办理中。",
      provisional: "（暂定：该年度的法定节假日安排尚未公布，日期可能调整）",
      asOf: function (d) { return "以上为截至 " + d + " 的状态。"; },
      month: function (y, m) { return y + "年" + Number(m) + "月"; },
      malformed: "回执码由 16 位字母和数字组成（例如 7K3Q-HXN2-ABCD-EF01），请检查后重新输入。",
      notFound: "没有找到与这个回执码对应的投诉。请检查输入是否有误；刚登记的投诉，可能要等网站下次更新后才能查到。",
      working: "正在查询……",
      unavailable: "这个浏览器无法完成查询（需要较新的浏览器，并通过 https 访问本站）。",
      failed: "暂时无法读取查询数据，请稍后再试。"
    },
    en: {
      states: { received: "Received", accepted: "Accepted", in_progress: "In progress", resolved: "Resolved", closed: "Closed" },
      state: "Status: ",
      next: "Next step promised by: ",
      nextNone: "No promised step is pending.",
      overdue: "The next step is past its promised date and still in progress.",
      provisional: " (provisional: that year's official holidays are not announced yet, so the date may move)",
      asOf: function (d) { return "Status as of " + d + "."; },
      month: function (y, m) {
        var names = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
        return names[Number(m) - 1] + " " + y;
      },
      malformed: "A receipt code has 16 letters and digits (for example 7K3Q-HXN2-ABCD-EF01). Please check it and try again.",
      notFound: "No complaint matches this receipt code. Please check what you typed; a complaint registered very recently appears after the site's next update.",
      working: "Checking…",
      unavailable: "This browser cannot run the check (it needs a recent browser and the site opened over https).",
      failed: "The lookup data could not be loaded. Please try again later."
    }
  };

  function normalize(typed) {
    var folded = (typed.normalize ? typed.normalize("NFKC") : typed)
      .replace(/[\s\-]+/g, "")
      .toUpperCase()
      .replace(/[IL]/g, "1")
      .replace(/O/g, "0");
    if (folded.length !== LENGTH) return null;
    for (var i = 0; i < folded.length; i++) {
      if (ALPHABET.indexOf(folded.charAt(i)) < 0) return null;
    }
    return folded;
  }

  function hex(buffer) {
    var bytes = new Uint8Array(buffer);
    var out = "";
    for (var i = 0; i < bytes.length; i++) out += (bytes[i] < 16 ? "0" : "") + bytes[i].toString(16);
    return out;
  }

  function derive(code, kdf, iterations) {
    var encoder = new TextEncoder();
    return crypto.subtle
      .importKey("raw", encoder.encode(code), "PBKDF2", false, ["deriveBits"])
      .then(function (key) {
        return crypto.subtle.deriveBits(
          { name: "PBKDF2", hash: kdf.hash, salt: encoder.encode(kdf.salt), iterations: iterations },
          key,
          8 * kdf.length
        );
      })
      .then(hex);
  }

  function shardOf(digest, bits) {
    var width = Math.max(1, Math.ceil(bits / 4));
    var prefix = bits ? parseInt(digest.slice(0, 8), 16) >>> (32 - bits) : 0;
    var name = prefix.toString(16);
    while (name.length < width) name = "0" + name;
    return name;
  }

  function lookup(index, code, loadShard) {
    var kdf = index.kdf;
    var counts = kdf.iterations.slice();
    function next() {
      if (!counts.length) return Promise.resolve(null);
      return derive(code, kdf, counts.shift()).then(function (digest) {
        return loadShard(index.shards.folder + shardOf(digest, index.shards.bits) + ".json").then(function (shard) {
          if (!Object.prototype.hasOwnProperty.call(shard.cases, digest)) return next();
          var row = shard.cases[digest];
          return { state: row[0], next_step_month: row[1], overdue: row[2] === 1, provisional: row[3] === 1 };
        });
      });
    }
    return next();
  }

  function show(output, lines, kind) {
    output.textContent = "";
    output.setAttribute("data-result", kind);
    lines.forEach(function (line) {
      var p = document.createElement("p");
      p.textContent = line;
      output.appendChild(p);
    });
  }

  function start(box) {
    var text = TEXT[box.getAttribute("data-lang")] || TEXT.zh;
    var form = box.querySelector("form");
    var input = box.querySelector("input");
    var output = box.querySelector("[data-receipt-output]");
    var indexUrl = new URL(box.getAttribute("data-table"), document.baseURI);
    var loaded = {};

    function load(url) {
      if (!loaded[url]) {
        loaded[url] = fetch(url, { credentials: "omit", cache: "no-cache" }).then(function (response) {
          if (!response.ok) throw new Error("HTTP " + response.status);
          return response.json();
        });
        loaded[url].catch(function () { delete loaded[url]; });
      }
      return loaded[url];
    }

    function loadShard(path) {
      return load(new URL(path, indexUrl).href);
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var code = normalize(input.value);
      if (code === null) return show(output, [text.malformed], "malformed");
      if (!window.crypto || !crypto.subtle || !window.TextEncoder) return show(output, [text.unavailable], "error");
      show(output, [text.working], "working");
      load(indexUrl.href)
        .then(function (index) { return lookup(index, code, loadShard).then(function (entry) { return { entry: entry, asOf: index.as_of }; }); })
        .then(function (found) {
          var entry = found.entry;
          if (!entry) return show(output, [text.notFound], "not-found");
          var lines = [text.state + (text.states[entry.state] || entry.state)];
          if (entry.next_step_month && entry.overdue) {
            lines.push(text.overdue);
          } else if (entry.next_step_month) {
            var parts = entry.next_step_month.split("-");
            lines.push(text.next + text.month(parts[0], parts[1]) + (entry.provisional ? text.provisional : ""));
          } else if (entry.state !== "closed") {
            lines.push(text.nextNone);
          }
          if (found.asOf) lines.push(text.asOf(found.asOf));
          show(output, lines, entry.state);
        })
        .catch(function () { show(output, [text.failed], "error"); });
    });
  }

  var boxes = document.querySelectorAll("[data-receipt-check]");
  for (var i = 0; i < boxes.length; i++) start(boxes[i]);
})();

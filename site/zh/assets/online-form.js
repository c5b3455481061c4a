/*
 * The online complaint form (网上投诉): everything readable stays in this browser.
 *
 * On submit the form's answers are checked against the policy's choices (rendered into the
 * page), a receipt code is drawn exactly as `complaints new` draws one (16 Crockford base32
 * characters, 5 random bits each from crypto.getRandomValues: 80 bits), its slow hash is
 * derived with WebCrypto's PBKDF2 (the site's public salt and work factor, as the "check my
 * complaint" page does), and the submission document (schema/submission.schema.json) is
 * encrypted with age (X25519) to every key in recipients.txt by the vendored age-encryption
 * library (assets/vendor/). Only the armoured ciphertext is offered for sending: copied,
 * downloaded, put in an e-mail draft or posted to the organisation's endpoint. The code is
 * shown once and sent nowhere; the plaintext answers are cleared from the page afterwards.
 */
(function () {
  "use strict";

  var ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  var LENGTH = 16;
  var TEXT = {
    zh: {
      category: "请选择投诉类别。",
      departments: "请至少选择一个涉及的部门。",
      what: "请填写发生了什么。",
      identity: "请选择匿名投诉或实名投诉。",
      contact: "实名投诉请留下联系方式；不想留联系方式的，请选择匿名投诉。",
      consent: "请阅读并勾选同意说明。",
      working: "正在加密……",
      unavailable: "这个浏览器无法在本地加密投诉（需要较新的浏览器，并通过 https 访问本站）。请改用其他投诉渠道。",
      failed: "加密没有成功，投诉内容没有离开您的设备。请稍后再试，或改用其他投诉渠道。",
      copied: "已复制。请粘贴到您选择的发送方式中。",
      copyFailed: "无法自动复制，请选中上面的文字后手动复制。",
      posting: "正在发送……",
      posted: "已发送。请保存好回执码。",
      postFailed: "发送没有成功。请改用复制、下载或电子邮件发送。",
      subject: "网上投诉（已加密）",
      fileName: "complaint.age"
    },
    en: {
      category: "Please choose a category.",
      departments: "Please choose at least one department.",
      what: "Please say what happened.",
      identity: "Please choose anonymous or named.",
      contact: "A named complaint needs contact details; to leave none, choose anonymous.",
      consent: "Please read and tick the consent text.",
      working: "Encrypting…",
      unavailable: "This browser cannot encrypt the complaint locally (it needs a recent browser and the site opened over https). Please use another channel.",
      failed: "Encryption failed; nothing left your device. Please try again later or use another channel.",
      copied: "Copied. Paste it into the way of sending you chose.",
      copyFailed: "Could not copy automatically; select the text above and copy it by hand.",
      posting: "Sending…",
      posted: "Sent. Keep your receipt code safe.",
      postFailed: "Sending failed. Please copy, download or e-mail it instead.",
      subject: "Online complaint (encrypted)",
      fileName: "complaint.age"
    }
  };

  function newCode() {
    // 256 is a multiple of 32, so the low five bits of a random byte are uniform.
    var bytes = new Uint8Array(LENGTH);
    crypto.getRandomValues(bytes);
    var out = "";
    for (var i = 0; i < LENGTH; i++) {
      if (i > 0 && i % 4 === 0) out += "-";
      out += ALPHABET.charAt(bytes[i] & 31);
    }
    return out;
  }

  function hex(buffer) {
    var bytes = new Uint8Array(buffer);
    var out = "";
    for (var i = 0; i < bytes.length; i++) out += (bytes[i] < 16 ? "0" : "") + bytes[i].toString(16);
    return out;
  }

  function receiptHash(code, settings) {
    var encoder = new TextEncoder();
    var normalized = code.replace(/-/g, "");
    return crypto.subtle
      .importKey("raw", encoder.encode(normalized), "PBKDF2", false, ["deriveBits"])
      .then(function (key) {
        return crypto.subtle.deriveBits(
          { name: "PBKDF2", hash: "SHA-256", salt: encoder.encode(settings.salt), iterations: settings.iterations },
          key,
          256
        );
      })
      .then(function (bits) {
        return "pbkdf2-sha256$" + settings.iterations + "$" + hex(bits);
      });
  }

  function encrypt(text, recipients) {
    var encrypter = new window.age.Encrypter();
    recipients.forEach(function (key) { encrypter.addRecipient(key); });
    return encrypter.encrypt(text).then(function (bytes) { return window.age.armor.encode(bytes); });
  }

  function answers(form, config, lang, t) {
    var problems = [];
    var category = form.querySelector("[name=category]").value;
    if (!category) problems.push(t.category);
    var departments = Array.prototype.map.call(form.querySelectorAll("[name=departments]:checked"), function (b) { return b.value; });
    if (!departments.length) problems.push(t.departments);
    var what = form.querySelector("[name=what_happened]").value;
    if (!/\S/.test(what)) problems.push(t.what);
    var request = form.querySelector("[name=request]").value;
    var identity = form.querySelector("[name=identity]:checked");
    if (!identity) problems.push(t.identity);
    var contact = form.querySelector("[name=contact]").value;
    var named = identity && identity.value === "named";
    if (named && !/\S/.test(contact)) problems.push(t.contact);
    if (!form.querySelector("[name=consent]").checked) problems.push(t.consent);
    if (problems.length) return { problems: problems };
    var doc = {
      format: config.format,
      version: config.version,
      lang: lang,
      channel: config.channel,
      category: category,
      departments: departments,
      anonymous: !named,
      what_happened: what,
      consent: true
    };
    if (/\S/.test(request)) doc.request = request;
    if (named) doc.contact = contact;
    return { doc: doc };
  }

  function setup(root) {
    var lang = root.getAttribute("data-lang") === "en" ? "en" : "zh";
    var t = TEXT[lang];
    var config = JSON.parse(document.querySelector("[data-online-config]").textContent);
    var form = root.querySelector("form");
    var errors = root.querySelector("[data-online-errors]");
    var result = root.querySelector("[data-online-result]");
    var status = root.querySelector("[data-online-status]");
    var output = root.querySelector("[data-online-ciphertext]");
    var contactBox = root.querySelector("[data-online-contact]");
    var armored = null;

    function say(element, message) { element.textContent = message; }

    function showErrors(list) {
      errors.textContent = "";
      list.forEach(function (message) {
        var item = document.createElement("li");
        item.textContent = message;
        errors.appendChild(item);
      });
      root.setAttribute("data-state", list.length ? "invalid" : "");
    }

    Array.prototype.forEach.call(form.querySelectorAll("[name=identity]"), function (radio) {
      radio.addEventListener("change", function () {
        contactBox.hidden = !(radio.checked && radio.value === "named");
      });
    });
    Array.prototype.forEach.call(root.querySelectorAll("[data-send]"), function (button) {
      button.hidden = config.send.indexOf(button.getAttribute("data-send")) < 0;
    });
    if (config.placeholder) root.querySelector("[data-online-placeholder]").hidden = false;

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (!window.crypto || !crypto.subtle || !window.age || !window.TextEncoder) {
        showErrors([t.unavailable]);
        return;
      }
      var checked = answers(form, config, lang, t);
      if (checked.problems) {
        showErrors(checked.problems);
        return;
      }
      showErrors([]);
      root.setAttribute("data-state", "working");
      say(status, t.working);
      var code = newCode();
      receiptHash(code, config.receipt)
        .then(function (hash) {
          checked.doc.receipt_hash = hash;
          return encrypt(JSON.stringify(checked.doc), config.recipients);
        })
        .then(function (text) {
          armored = text;
          checked = null;
          // Nothing readable stays on the page once the ciphertext exists.
          form.reset();
          contactBox.hidden = true;
          form.hidden = true;
          root.querySelector("[data-online-code]").textContent = code;
          output.value = armored;
          var mail = root.querySelector("[data-send=email]");
          if (config.email) {
            mail.href = "mailto:" + config.email + "?subject=" + encodeURIComponent(t.subject) + "&body=" + encodeURIComponent(armored);
          }
          result.hidden = false;
          say(status, "");
          root.setAttribute("data-state", "done");
          result.querySelector("[data-online-code]").focus();
        })
        .catch(function () {
          say(status, t.failed);
          root.setAttribute("data-state", "error");
        });
    });

    root.querySelector("[data-send=copy]").addEventListener("click", function () {
      function fallback() {
        output.select();
        var ok = false;
        try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
        say(status, ok ? t.copied : t.copyFailed);
      }
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(armored).then(function () { say(status, t.copied); }, fallback);
      } else {
        fallback();
      }
    });

    root.querySelector("[data-send=download]").addEventListener("click", function () {
      var url = URL.createObjectURL(new Blob([armored], { type: "application/octet-stream" }));
      var link = document.createElement("a");
      link.href = url;
      link.download = t.fileName;
      document.body.appendChild(link);
      link.click();
      link.remove();
      setTimeout(function () { URL.revokeObjectURL(url); }, 0);
    });

    root.querySelector("[data-send=post]").addEventListener("click", function () {
      if (!config.endpoint) return;
      say(status, t.posting);
      fetch(config.endpoint, {
        method: "POST",
        headers: { "Content-Type": "text/plain; charset=us-ascii" },
        body: armored,
        credentials: "omit",
        referrerPolicy: "no-referrer",
        cache: "no-store"
      }).then(function (response) {
        say(status, response.ok ? t.posted : t.postFailed);
        root.setAttribute("data-posted", response.ok ? "ok" : "failed");
      }, function () {
        say(status, t.postFailed);
        root.setAttribute("data-posted", "failed");
      });
    });
  }

  // For the browser tests: the code generator is checked against `complaints new`'s format.
  window.complaintsOnlineForm = Object.freeze({ newCode: newCode });

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-online-form]"), setup);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();

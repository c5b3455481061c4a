/*
 * The site's search worker: the theme's own worker (mkdocs-material), with two changes made
 * around it rather than inside it, so that the theme's file stays as shipped.
 *
 * 1. Results in the reader's language. The index holds every language's pages; the page
 *    tells the worker its language in the worker's address (?lang=en&langs=zh,en, the first
 *    being the default, whose pages have no language folder), and only that language's pages
 *    are indexed.
 * 2. English queries analysed like the index. The index stores English words stemmed
 *    ("complaints" -> "complaint", "anonymous" -> "anonym"), but the theme turns each typed
 *    word into a prefix query ("anonymous*"), and lunr does not stem prefix queries, so most
 *    typed words found nothing. Each Latin-script word is stemmed here first, with the same
 *    stemmer the index used; the theme's prefix query then matches it. Chinese words are left
 *    to the theme, which splits them against the index's own jieba-segmented words.
 */
(function () {
  "use strict";
  var params = new URLSearchParams(self.location.search);
  var languages = (params.get("langs") || "").split(",").filter(Boolean);
  var lang = params.get("lang") || languages[0] || "";
  var worker = params.get("worker") || "";
  // Only the theme's worker, from this folder: the name is not a way to load other code.
  if (!/^search\.[0-9a-f]+\.min\.js$/.test(worker)) {
    throw new Error("unexpected search worker name");
  }

  function inLanguage(location) {
    var first = String(location).split("/")[0];
    var others = languages.slice(1);
    if (lang === languages[0]) {
      return others.indexOf(first) === -1;
    }
    return first === lang;
  }

  function stem(word) {
    var lunr = self.lunr;
    if (!lunr || !lunr.stemmer || !lunr.Token) {
      return word;
    }
    return lunr.stemmer(new lunr.Token(word.toLowerCase(), {})).toString();
  }

  function analyse(query) {
    // A word followed by ":" names a field (title:...), and is left alone.
    return query.replace(/[A-Za-z][A-Za-z']*(?!\w*:)/g, function (word) {
      return stem(word.replace(/'s$/i, ""));
    });
  }

  function rewrite(message) {
    if (!message || typeof message !== "object") {
      return message;
    }
    if (message.type === 0 && message.data && Array.isArray(message.data.docs) && languages.length > 1) {
      var data = Object.assign({}, message.data);
      data.docs = data.docs.filter(function (doc) { return inLanguage(doc.location); });
      return Object.assign({}, message, { data: data });
    }
    if (message.type === 2 && typeof message.data === "string") {
      return Object.assign({}, message, { data: analyse(message.data) });
    }
    return message;
  }

  var listen = self.addEventListener.bind(self);
  self.addEventListener = function (type, handler, options) {
    if (type !== "message") {
      return listen(type, handler, options);
    }
    return listen(type, function (event) {
      return handler({ data: rewrite(event.data) });
    }, options);
  };
  importScripts(worker);
})();

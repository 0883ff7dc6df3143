// Sphinx 9's Chinese search data (language_data.js) ends with `window.Stemmer = ChineseStemmer`
// but never defines ChineseStemmer (a Sphinx bug: the search page stops with "Stemmer is not
// defined"). The index side (sphinx/search/zh.py) stems words with the English snowball stemmer
// after lower-casing (Chinese words pass through unchanged); this does the same in the browser.
var ChineseStemmer = function () {
  var english = new EnglishStemmer();
  this.stemWord = function (word) { return english.stemWord(word.toLowerCase()); };
};

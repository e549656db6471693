// Files handed to the browser as downloads: a saved run (the server's `run` message, the
// answer to `save`) and the page's exports.

/** The file's name: the one the message carries, else the one the `saved` event announced. */
export function runFileName(header, savedName) {
  return header.filename || savedName || "ganlab.ganlab";
}

/** Download `blob` as `filename` through a temporary link. The object URL is freed a moment
 * later, once the browser has started reading it. */
export function downloadBlob(blob, filename, { doc = document, urls = URL, later = setTimeout } = {}) {
  const a = doc.createElement("a");
  a.href = urls.createObjectURL(blob);
  a.download = filename;
  a.click();
  later(() => urls.revokeObjectURL(a.href), 1000);
  return a;
}

/** Download `bytes` (a run file) as `filename`. */
export function downloadBytes(bytes, filename, options = {}) {
  return downloadBlob(new Blob([bytes], { type: "application/octet-stream" }), filename, options);
}

/** Download `text` as `filename` of type `mime` (e.g. "text/csv"). */
export function downloadText(text, filename, mime = "text/plain", options = {}) {
  return downloadBlob(new Blob([text], { type: `${mime};charset=utf-8` }), filename, options);
}

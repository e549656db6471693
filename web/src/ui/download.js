// Saving a run: the server's `run` message (the answer to `save`) handed to the browser as a
// file download.

/** The file's name: the one the message carries, else the one the `saved` event announced. */
export function runFileName(header, savedName) {
  return header.filename || savedName || "ganlab.ganlab";
}

/** Download `bytes` as `filename` through a temporary link. The object URL is freed a moment
 * later, once the browser has started reading it. */
export function downloadBytes(bytes, filename, { doc = document, urls = URL, later = setTimeout } = {}) {
  const blob = new Blob([bytes], { type: "application/octet-stream" });
  const a = doc.createElement("a");
  a.href = urls.createObjectURL(blob);
  a.download = filename;
  a.click();
  later(() => urls.revokeObjectURL(a.href), 1000);
  return a;
}

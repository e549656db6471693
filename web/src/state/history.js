// The run's metric history as the server sends it (docs/protocol.md `history` and frame rows).

/** The metric history: one array per column, replaced by `history` messages, extended by frames. */
export class History {
  constructor() {
    this.columns = [];
    this.data = {};
    this.length = 0;
    this.version = 0;
  }

  replace(columns, rows) {
    this.columns = columns;
    this.data = Object.fromEntries(columns.map((c) => [c, []]));
    this.length = 0;
    this.append(rows);
  }

  /** Append an (n, c) Float32Array of rows; NaN becomes null (a gap). */
  append(rows) {
    if (!rows) return;
    const c = this.columns.length;
    if (c === 0) return;
    const n = Math.floor(rows.length / c);
    for (let r = 0; r < n; r++) {
      for (let j = 0; j < c; j++) {
        const v = rows[r * c + j];
        this.data[this.columns[j]].push(Number.isNaN(v) ? null : v);
      }
    }
    this.length += n;
    if (n > 0) this.version++;
  }

  column(name) {
    return this.data[name] || [];
  }

  last(name) {
    const col = this.column(name);
    for (let i = col.length - 1; i >= 0; i--) if (col[i] !== null) return col[i];
    return null;
  }
}

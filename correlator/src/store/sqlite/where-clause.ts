/** Builds the WHERE clause of a filtered list query from optional filters, with bound arguments. */
export class WhereClause {
  private readonly parts: string[] = [];
  readonly args: unknown[] = [];

  /** Adds `sql` (with its `?` placeholders) when every argument is defined. */
  add(sql: string, ...args: unknown[]): this {
    if (args.every(a => a !== undefined && a !== '')) {
      this.parts.push(sql);
      this.args.push(...args);
    }
    return this;
  }

  /** Case-insensitive substring match on `column`, with LIKE wildcards in the text escaped. */
  contains(column: string, text: string | undefined): this {
    return text ? this.add(`${column} LIKE ? ESCAPE '\\'`, `%${text.replace(/[\\%_]/g, m => `\\${m}`)}%`) : this;
  }

  /** Rows whose [firstColumn, lastColumn] span overlaps [fromMs, toMs]. */
  overlaps(firstColumn: string, lastColumn: string, fromMs: number | undefined, toMs: number | undefined): this {
    return this.add(`${lastColumn} >= ?`, fromMs).add(`${firstColumn} <= ?`, toMs);
  }

  toString(): string {
    return this.parts.length ? `WHERE ${this.parts.join(' AND ')}` : '';
  }
}

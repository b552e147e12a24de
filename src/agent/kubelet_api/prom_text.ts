// A small writer of the Prometheus text format for the endpoints whose series are built per scrape
// from the runtime (/metrics/resource, /metrics/cadvisor) rather than kept in a prom-client registry.

export type Labels = Record<string, string>;

const escape = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

export class PromText {
  private readonly lines: string[] = [];
  private readonly declared = new Set<string>();

  /** HELP and TYPE once per family, before its first sample. */
  family(name: string, type: 'counter' | 'gauge', help: string): this {
    if (this.declared.has(name)) return this;
    this.declared.add(name);
    this.lines.push(
      `# HELP ${name} ${help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`,
      `# TYPE ${name} ${type}`,
    );
    return this;
  }

  sample(name: string, labels: Labels, value: number, timestampMs?: number): this {
    const keys = Object.keys(labels);
    const set = keys.length ? `{${keys.map((k) => `${k}="${escape(labels[k])}"`).join(',')}}` : '';
    const ts = timestampMs !== undefined ? ` ${Math.floor(timestampMs)}` : '';
    this.lines.push(`${name}${set} ${Number.isFinite(value) ? value : 'NaN'}${ts}`);
    return this;
  }

  toString(): string {
    return this.lines.length ? `${this.lines.join('\n')}\n` : '';
  }
}

export const PROM_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

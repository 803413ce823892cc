/**
 * What the network saw the server say about pushed changes. The invariants compare it with
 * the server's storage: an acknowledged change must be there, and no change may be applied twice.
 */
export class Ledger {
  /** `${user}\u0000${changeId}` → times the server answered `applied` (any copy, delivered or not). */
  readonly applied = new Map<string, number>();
  /** Changes whose `applied`/`duplicate` answer reached a running app. */
  readonly acked = new Map<string, { user: string; changeId: string }>();

  /** Records a push answer the server produced. */
  observe(user: string, url: string, status: number, body: string, delivered: boolean): void {
    if (!url.startsWith('/v1/push') || status !== 200) return;
    const parsed = JSON.parse(body) as { results?: Array<{ changeId: string; status: string }> };
    for (const result of parsed.results ?? []) {
      const key = `${user}\u0000${result.changeId}`;
      if (!delivered && result.status === 'applied') this.applied.set(key, (this.applied.get(key) ?? 0) + 1);
      if (delivered && (result.status === 'applied' || result.status === 'duplicate')) {
        this.acked.set(key, { user, changeId: result.changeId });
      }
    }
  }

  /** Change ids the server applied more than once. */
  appliedTwice(): string[] {
    return [...this.applied].filter(([, count]) => count > 1).map(([key]) => key.replace('\u0000', '/'));
  }
}

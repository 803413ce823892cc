/**
 * The slice of PouchDB 9 and express-pouchdb 4 the benchmark uses (neither ships types,
 * and the bench installs no @types packages).
 */
declare module 'pouchdb' {
  interface ReplicationResult {
    ok: boolean;
    docs_written: number;
    docs_read: number;
  }
  interface PouchDatabase {
    bulkDocs(docs: ReadonlyArray<Record<string, unknown>>): Promise<unknown[]>;
    info(): Promise<{ doc_count: number }>;
    close(): Promise<void>;
    destroy(): Promise<void>;
  }
  interface PouchStatic {
    new (name: string, options?: Record<string, unknown>): PouchDatabase;
    defaults(options: Record<string, unknown>): PouchStatic;
    replicate(
      source: PouchDatabase | string,
      target: PouchDatabase | string,
      options?: Record<string, unknown>,
    ): Promise<ReplicationResult>;
  }
  const PouchDB: PouchStatic;
  export default PouchDB;
}

declare module 'express-pouchdb' {
  import type { RequestListener } from 'node:http';

  function expressPouchDB(pouch: unknown, options?: Record<string, unknown>): RequestListener;
  export default expressPouchDB;
}

// Reads Parquet results with DuckDB, a reader independent of the writer
// (parquet-go), and prints one JSON object:
//
//   {"rows": N, "classes": {"<class>": n, ...}, "errors": n, "columns": {"<name>": "<DuckDB type>", ...}}
//
// classes counts the classified rows (error empty) by class; errors the rows
// with an error. Usage: node check.mjs 'path/to/results/*.parquet'
import { DuckDBInstance } from '@duckdb/node-api';

const glob = process.argv[2];
if (!glob || process.argv.length > 3) {
  console.error("usage: node check.mjs 'folder/*.parquet'");
  process.exit(2);
}
const src = `read_parquet('${glob.replaceAll("'", "''")}')`;

const instance = await DuckDBInstance.create(':memory:');
const conn = await instance.connect();
try {
  const rows = async (sql) => (await conn.runAndReadAll(sql)).getRowObjectsJS();
  const [total] = await rows(
    `SELECT count(*)::BIGINT AS rows, count(*) FILTER (WHERE error <> '')::BIGINT AS errors FROM ${src}`);
  const classes = {};
  for (const r of await rows(
    `SELECT class, count(*)::BIGINT AS n FROM ${src} WHERE error = '' GROUP BY class ORDER BY class`)) {
    classes[r.class] = Number(r.n);
  }
  const columns = {};
  for (const r of await rows(`DESCRIBE SELECT * FROM ${src}`)) {
    columns[r.column_name] = r.column_type;
  }
  console.log(JSON.stringify({ rows: Number(total.rows), classes, errors: Number(total.errors), columns }));
} finally {
  conn.closeSync();
  instance.closeSync();
}

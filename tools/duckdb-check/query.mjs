// Runs SQL on one Parquet file with DuckDB, a reader independent of the
// writer (parquet-go), and prints one JSON object:
//
//   {"columns": {"<name>": "<DuckDB type>", ...}, "results": [[{row}, ...], ...]}
//
// The file is the view t; each SQL argument gives one list of rows in
// results (BIGINTs as numbers). Usage: node query.mjs FILE 'SELECT ... FROM t' ...
import { DuckDBInstance } from '@duckdb/node-api';

const [file, ...queries] = process.argv.slice(2);
if (!file || queries.length === 0) {
  console.error("usage: node query.mjs FILE 'SQL on t' ...");
  process.exit(2);
}
const instance = await DuckDBInstance.create(':memory:');
const conn = await instance.connect();
try {
  const rows = async (sql) => (await conn.runAndReadAll(sql)).getRowObjectsJS();
  await conn.run(`CREATE VIEW t AS SELECT * FROM read_parquet('${file.replaceAll("'", "''")}')`);
  const columns = {};
  for (const r of await rows('DESCRIBE SELECT * FROM t')) {
    columns[r.column_name] = r.column_type;
  }
  const results = [];
  for (const q of queries) {
    results.push(await rows(q));
  }
  console.log(JSON.stringify({ columns, results }, (_, v) => (typeof v === 'bigint' ? Number(v) : v)));
} finally {
  conn.closeSync();
  instance.closeSync();
}

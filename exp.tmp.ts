import { createPrismaClient } from './sample/database/prisma.service';
import { PostgresqlJobStore } from './lib/store/postgresql.store';
import { Client } from 'pg';
async function main() {
  const admin = new Client({ connectionString: 'postgresql://postgres@127.0.0.1:5432/test' }); await admin.connect();
  await admin.query('DROP DATABASE IF EXISTS exp_dj WITH (FORCE)'); await admin.query('CREATE DATABASE exp_dj');
  const p = await createPrismaClient('postgresql://postgres@127.0.0.1:5432/exp_dj');
  for (const t of ['a','a','b','a']) await p.$executeRawUnsafe(`INSERT INTO doctor_job_dead_letter (job_id,type,payload,attempts,max_attempts,error_message,created_at) VALUES (1,'${t}','{}',1,1,'x',now())`);
  const s = new PostgresqlJobStore(p);
  console.log((await s.listDeadLetters({ limit: 10 })).map(d => d.id + d.type));
  console.log((await s.listDeadLetters({ limit: 10, type: 'a' })).map(d => d.id + d.type));
  console.log((await s.listDeadLetters({ limit: 10 })).map(d => d.id + d.type));
  console.log((await s.listDeadLetters({ limit: 10, before: '4' })).map(d => d.id + d.type));
  console.log((await s.listDeadLetters({ limit: 10 })).map(d => d.id + d.type));
  await p.$disconnect(); await admin.end();
}
main();

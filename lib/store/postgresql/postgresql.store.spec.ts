/**
 * The store loads the pg driver when it is made (see pgDriver), but pg is an optional peer
 * dependency: a PostgreSQL app through Prisma alone (notify settings given, pg not installed)
 * must still get its store, and its LISTEN must fail where the runner handles it (it polls).
 */
describe('PostgresqlJobStore without the pg driver installed', () => {
  afterEach(() => jest.resetModules());

  it('is made, and its listen() rejects instead of its construction throwing', async () => {
    jest.doMock('pg', () => {
      throw new Error("Cannot find module 'pg'");
    });
    const { PostgresqlJobStore } = jest.requireActual<typeof import('./postgresql.store')>('./postgresql.store');
    const store = new PostgresqlJobStore({} as never, { connectionString: 'postgresql://127.0.0.1:1/none' });
    expect(store).toBeInstanceOf(PostgresqlJobStore);
    await expect(store.listen(() => undefined, { connected: () => undefined, lost: () => undefined })).rejects.toThrow(/pg/);
  });
});

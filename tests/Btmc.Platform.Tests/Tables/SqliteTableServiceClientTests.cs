using Btmc.Platform.Tables;
using Btmc.Testing;
using Microsoft.Data.Sqlite;
using Xunit;

namespace Btmc.Platform.Tests.Tables;

/// <summary>Behaviour specific to the SQLite store: persistence, its token format, its exact ordinal order.</summary>
public sealed class SqliteTableServiceClientTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    private string DatabasePath => _directory.Combine("data", "tables.db");

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task Dispose_ThenReopen_KeepsTablesEntitiesAndETags()
    {
        string etag;
        var when = DateTimeOffset.UtcNow;
        using (var service = new SqliteTableServiceClient(DatabasePath))
        {
            var table = service.GetTableClient("orders");
            await table.CreateIfNotExistsAsync();
            etag = await table.AddEntityAsync(Entity("p", "r", ("V", 42L), ("When", when), ("Blob", new byte[] { 1, 2, 3 })));
            await AddRowsAsync(table, "bulk", 250);
        }

        using (var reopened = new SqliteTableServiceClient(DatabasePath))
        {
            var table = reopened.GetTableClient("Orders");
            var stored = await table.GetEntityIfExistsAsync("p", "r");

            Assert.NotNull(stored);
            Assert.Equal(etag, stored.ETag);
            Assert.Equal(42L, stored.Properties["V"]);
            Assert.Equal(when.UtcTicks, ((DateTimeOffset)stored.Properties["When"]).UtcTicks);
            Assert.Equal(new byte[] { 1, 2, 3 }, stored.GetBinary("Blob"));
            Assert.Equal(250, (await table.QueryAsync(new TableQuery("bulk"))).Items.Count);
        }
    }

    [Fact]
    public async Task UpsertEntityAsync_AfterReopen_GivesLaterTimestampAndNewETag()
    {
        string before;
        DateTimeOffset beforeTime;
        using (var service = new SqliteTableServiceClient(DatabasePath))
        {
            var table = service.GetTableClient("clock");
            await table.CreateIfNotExistsAsync();
            for (var i = 0; i < 50; i++)
            {
                await table.UpsertEntityAsync(Entity("p", "r", ("V", i)));
            }

            var stored = (await table.GetEntityIfExistsAsync("p", "r"))!;
            before = stored.ETag!;
            beforeTime = stored.Timestamp!.Value;
        }

        using var reopened = new SqliteTableServiceClient(DatabasePath);
        var again = reopened.GetTableClient("clock");
        var after = await again.UpsertEntityAsync(Entity("p", "r", ("V", -1)));

        Assert.NotEqual(before, after);
        Assert.True((await again.GetEntityIfExistsAsync("p", "r"))!.Timestamp > beforeTime);
    }

    [Fact]
    public async Task DatabaseFile_AfterWrites_IsInWalMode()
    {
        using var service = new SqliteTableServiceClient(DatabasePath);
        var table = service.GetTableClient("wal");
        await table.CreateIfNotExistsAsync();
        await table.AddEntityAsync(Entity("p", "r"));

        var tableFile = _directory.Combine("data", "tables", "wal.db");
        Assert.True(File.Exists(DatabasePath));
        Assert.True(File.Exists(tableFile));
        Assert.True(File.Exists(tableFile + "-wal"));
    }

    [Fact]
    public async Task Tables_InSeveralCases_LiveInOneLowerCaseDatabaseFileEach()
    {
        using var service = new SqliteTableServiceClient(DatabasePath);
        await service.GetTableClient("Entries").CreateIfNotExistsAsync();
        await service.GetTableClient("ENTRIES").CreateIfNotExistsAsync();
        await service.GetTableClient("eventIndex").CreateIfNotExistsAsync();

        Assert.Equal(_directory.Combine("data", "tables"), service.TablesDirectory);
        Assert.Equal(["entries.db", "eventindex.db"],
            Directory.GetFiles(service.TablesDirectory, "*.db").Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Dispose_ThenReopen_KeepsEveryTableOfTheStore()
    {
        string[] names = ["Entries", "eventindex", "captures", "chains", "blocks"];
        var etags = new Dictionary<string, string>(StringComparer.Ordinal);
        using (var service = new SqliteTableServiceClient(DatabasePath))
        {
            await Task.WhenAll(names.Select(async name =>
            {
                var table = service.GetTableClient(name);
                await table.CreateIfNotExistsAsync();
                await AddRowsAsync(table, "bulk", 300);
                var etag = await table.AddEntityAsync(Entity("p", "r", ("Table", name)));
                lock (etags)
                {
                    etags[name] = etag;
                }
            }));
        }

        using var reopened = new SqliteTableServiceClient(DatabasePath);
        foreach (var name in names)
        {
            var table = reopened.GetTableClient(name.ToUpperInvariant());
            var stored = await table.GetEntityIfExistsAsync("p", "r");

            Assert.NotNull(stored);
            Assert.Equal(name, stored.GetString("Table"));
            Assert.Equal(etags[name], stored.ETag);
            Assert.Equal(300, (await table.QueryAsync(new TableQuery("bulk"))).Items.Count);
        }

        var missing = await Assert.ThrowsAsync<TableStoreException>(() => reopened.GetTableClient("other").QueryAsync(new TableQuery()));
        Assert.Equal(404, missing.Status);
    }

    [Fact]
    public async Task SubmitTransactionAsync_FailingOnOneTable_LeavesConcurrentTransactionsOnAnotherWhole()
    {
        using (var service = new SqliteTableServiceClient(DatabasePath))
        {
            var good = service.GetTableClient("good");
            var bad = service.GetTableClient("bad");
            await good.CreateIfNotExistsAsync();
            await bad.CreateIfNotExistsAsync();
            await bad.AddEntityAsync(Entity("p", Row(99)));
            var writes = Task.Run(async () =>
            {
                for (var t = 0; t < 20; t++)
                {
                    await good.SubmitTransactionAsync(Enumerable.Range(0, 100).Select(i =>
                        new TableTransactionAction(TableTransactionActionType.Add, Entity($"p{t}", Row(i)))).ToList());
                }
            });
            var failures = Task.Run(async () =>
            {
                for (var t = 0; t < 20; t++)
                {
                    // Rows 0..98 are new; row 99 exists, so the whole transaction fails and must leave nothing behind.
                    var e = await Assert.ThrowsAsync<TableStoreException>(() => bad.SubmitTransactionAsync(Enumerable.Range(0, 100).Select(i =>
                        new TableTransactionAction(TableTransactionActionType.Add, Entity("p", Row(i)))).ToList()));
                    Assert.Equal(409, e.Status);
                    Assert.Equal(99, e.FailedActionIndex);
                }
            });
            await Task.WhenAll(writes, failures);
        }

        using var reopened = new SqliteTableServiceClient(DatabasePath);
        var badPage = await reopened.GetTableClient("bad").QueryAsync(new TableQuery());
        Assert.Equal([Row(99)], badPage.Items.Select(e => e.RowKey));
        for (var t = 0; t < 20; t++)
        {
            Assert.Equal(100, (await reopened.GetTableClient("good").QueryAsync(new TableQuery($"p{t}"))).Items.Count);
        }
    }

    [Fact]
    public async Task Reopen_WithSeveralTables_StartsTheClockPastTheLatestTimestampOfAnyTable()
    {
        DateTimeOffset latest;
        var etags = new HashSet<string>(StringComparer.Ordinal);
        using (var service = new SqliteTableServiceClient(DatabasePath))
        {
            foreach (var name in new[] { "alpha", "beta", "gamma" })
            {
                var table = service.GetTableClient(name);
                await table.CreateIfNotExistsAsync();
                for (var i = 0; i < 20; i++)
                {
                    Assert.True(etags.Add(await table.UpsertEntityAsync(Entity("p", Row(i)))));
                }
            }
        }

        // The clock saved by the last commit to "beta" lies a day ahead, as if that table had been written last.
        var ahead = DateTimeOffset.UtcNow.AddDays(1).UtcTicks;
        using (var raw = new SqliteConnection($"Data Source={_directory.Combine("data", "tables", "beta.db")};Pooling=False"))
        {
            raw.Open();
            using var command = raw.CreateCommand();
            command.CommandText = $"UPDATE meta SET value={ahead} WHERE key='clock'";
            Assert.Equal(1, command.ExecuteNonQuery());
        }

        // A second store over the same files while the first stays open is what a restart after kill -9 sees.
        var crashed = new SqliteTableServiceClient(DatabasePath);
        await crashed.GetTableClient("gamma").UpsertEntityAsync(Entity("p", "late"));
        latest = (await crashed.GetTableClient("gamma").GetEntityIfExistsAsync("p", "late"))!.Timestamp!.Value;
        Assert.True(latest.UtcTicks > ahead);
        using var reopened = new SqliteTableServiceClient(DatabasePath);
        crashed.Dispose();
        foreach (var name in new[] { "alpha", "gamma", "beta" })
        {
            var etag = await reopened.GetTableClient(name).UpsertEntityAsync(Entity("p", "after"));
            var stored = (await reopened.GetTableClient(name).GetEntityIfExistsAsync("p", "after"))!;

            Assert.True(etags.Add(etag));
            Assert.True(stored.Timestamp > latest);
            latest = stored.Timestamp!.Value;
        }
    }

    [Fact]
    public async Task GetTableClient_TableCreatedByAnotherStoreOverTheSameFolder_IsFound()
    {
        using var first = new SqliteTableServiceClient(DatabasePath);
        using var second = new SqliteTableServiceClient(DatabasePath);
        await second.GetTableClient("late").CreateIfNotExistsAsync();
        var etag = await second.GetTableClient("late").AddEntityAsync(Entity("p", "r"));

        Assert.Equal(etag, (await first.GetTableClient("Late").GetEntityIfExistsAsync("p", "r"))!.ETag);
    }

    [Fact]
    public async Task QueryAsync_SupplementaryCharacters_OrderLikeCompareOrdinal()
    {
        using var service = new SqliteTableServiceClient(DatabasePath);
        var table = service.GetTableClient("ordinal");
        await table.CreateIfNotExistsAsync();
        // U+1F600 is a surrogate pair (D83D DE00): before U+FFFD in UTF-16 order, after it in UTF-8 byte order.
        string[] rows = ["\uFFFD", "\uD83D\uDE00", "\uE000", "z", "\u00E9", "A"];
        foreach (var rk in rows)
        {
            await table.AddEntityAsync(Entity("p", rk));
        }

        var page = await table.QueryAsync(new TableQuery("p"));

        Assert.Equal(rows.Order(StringComparer.Ordinal), page.Items.Select(e => e.RowKey));
        Assert.Equal(["A", "z", "\u00E9", "\uD83D\uDE00", "\uE000", "\uFFFD"], page.Items.Select(e => e.RowKey));
    }

    [Fact]
    public async Task GetEntityIfExistsAsync_StringWithUnpairedSurrogate_RoundTripsExactly()
    {
        using var service = new SqliteTableServiceClient(DatabasePath);
        var table = service.GetTableClient("surrogates");
        await table.CreateIfNotExistsAsync();
        var odd = "a\uD800b\uDC00";
        await table.AddEntityAsync(Entity("p", "r", ("S", odd)));

        Assert.Equal(odd, (await table.GetEntityIfExistsAsync("p", "r"))!.GetString("S"));
    }

    [Fact]
    public async Task AddEntityAsync_KeyWithUnpairedSurrogate_Throws400()
    {
        using var service = new SqliteTableServiceClient(DatabasePath);
        var table = service.GetTableClient("surrogates");
        await table.CreateIfNotExistsAsync();

        var e = await Assert.ThrowsAsync<TableStoreException>(() => table.AddEntityAsync(Entity("p\uD800", "r")));

        Assert.Equal(400, e.Status);
    }

    [Fact]
    public async Task AddEntityAsync_DateBefore1601_Throws400OutOfRangeInput()
    {
        using var service = new SqliteTableServiceClient(DatabasePath);
        var table = service.GetTableClient("dates");
        await table.CreateIfNotExistsAsync();

        var e = await Assert.ThrowsAsync<TableStoreException>(() =>
            table.AddEntityAsync(Entity("p", "r", ("T", new DateTimeOffset(1600, 12, 31, 0, 0, 0, TimeSpan.Zero)))));

        Assert.Equal(400, e.Status);
        Assert.Equal("OutOfRangeInput", e.ErrorCode);
    }

    [Fact]
    public async Task AddEntityAsync_UnsupportedPropertyTypes_Throw400InvalidInput()
    {
        using var service = new SqliteTableServiceClient(DatabasePath);
        var table = service.GetTableClient("types");
        await table.CreateIfNotExistsAsync();

        foreach (var value in new object[] { 1.5f, 1.5m, DateTime.UtcNow, (short)1, 'c' })
        {
            var e = await Assert.ThrowsAsync<TableStoreException>(() => table.AddEntityAsync(Entity("p", "r", ("V", value))));

            Assert.Equal(400, e.Status);
            Assert.Equal("InvalidInput", e.ErrorCode);
        }

        Assert.Null(await table.GetEntityIfExistsAsync("p", "r"));
    }

    [Theory]
    [InlineData("not base64 !!")]
    [InlineData("AAAA")]
    [InlineData("")]
    public async Task QueryAsync_ForeignContinuationToken_Throws400InvalidInput(string token)
    {
        using var service = new SqliteTableServiceClient(DatabasePath);
        var table = service.GetTableClient("tokens");
        await table.CreateIfNotExistsAsync();

        var e = await Assert.ThrowsAsync<TableStoreException>(() => table.QueryAsync(new TableQuery(ContinuationToken: token)));

        Assert.Equal(400, e.Status);
        Assert.Equal("InvalidInput", e.ErrorCode);
    }

    [Fact]
    public async Task QueryAsync_WhileTransactionsRun_SeesOnlyWholeTransactions()
    {
        using var service = new SqliteTableServiceClient(DatabasePath);
        var table = service.GetTableClient("snapshots");
        await table.CreateIfNotExistsAsync();
        var writer = Task.Run(async () =>
        {
            for (var batch = 0; batch < 40; batch++)
            {
                await table.SubmitTransactionAsync(Enumerable.Range(0, 50)
                    .Select(i => new TableTransactionAction(TableTransactionActionType.Add, Entity("p", Row((batch * 50) + i)))).ToList());
            }
        });
        var observed = new List<int>();
        while (!writer.IsCompleted)
        {
            var page = await table.QueryAsync(new TableQuery("p", MaxPerPage: 1000, Select: []));
            observed.Add(page.ContinuationToken is null ? page.Items.Count : 1000);
        }

        await writer;
        Assert.All(observed, count => Assert.Equal(0, count % 50));
    }

    [Fact]
    public async Task SubmitTransactionAsync_WritesPastCheckpointThreshold_KeepAllDataAcrossReopen()
    {
        // About 40 MB of entities: background checkpoints run while the writes and reads go on.
        var body = new string('c', 2000);
        using (var service = new SqliteTableServiceClient(DatabasePath))
        {
            var table = service.GetTableClient("bulk");
            await table.CreateIfNotExistsAsync();
            var reader = Task.Run(async () =>
            {
                for (var i = 0; i < 50; i++)
                {
                    var page = await table.QueryAsync(new TableQuery("p0", MaxPerPage: 100));
                    Assert.All(page.Items, e => Assert.Equal(body, e.GetString("Body")));
                }
            });
            for (var t = 0; t < 100; t++)
            {
                await table.SubmitTransactionAsync(Enumerable.Range(0, 100).Select(i => new TableTransactionAction(
                    TableTransactionActionType.Add, Entity($"p{t % 10}", Row((t * 100) + i), ("Body", body)))).ToList());
            }

            await reader;
        }

        using var reopened = new SqliteTableServiceClient(DatabasePath);
        var again = reopened.GetTableClient("bulk");
        var count = 0;
        string? token = null;
        do
        {
            var page = await again.QueryAsync(new TableQuery(ContinuationToken: token));
            Assert.All(page.Items, e => Assert.Equal(body, e.GetString("Body")));
            count += page.Items.Count;
            token = page.ContinuationToken;
        }
        while (token is not null);

        Assert.Equal(10_000, count);
    }

    [Fact]
    public void GetTableClient_AfterDispose_ThrowsObjectDisposed()
    {
        var service = new SqliteTableServiceClient(DatabasePath);
        service.Dispose();

        Assert.Throws<ObjectDisposedException>(() => service.GetTableClient("late"));
    }

    /// <summary>The property encoding of an entity without properties: format version 1, count 0.</summary>
    private static byte[] EmptyProperties() => [1, 0];

    private static TableEntity Entity(string pk, string rk, params (string Name, object Value)[] properties) =>
        new(pk, rk, properties.ToDictionary(p => p.Name, p => p.Value, StringComparer.Ordinal));

    private static string Row(int i) => i.ToString("D6", System.Globalization.CultureInfo.InvariantCulture);

    private static async Task AddRowsAsync(ITableClient table, string pk, int count)
    {
        for (var start = 0; start < count; start += 100)
        {
            await table.SubmitTransactionAsync(Enumerable.Range(start, Math.Min(100, count - start))
                .Select(i => new TableTransactionAction(TableTransactionActionType.Add, Entity(pk, Row(i)))).ToList());
        }
    }
}

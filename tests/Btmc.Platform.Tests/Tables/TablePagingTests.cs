using Btmc.Platform.Tables;
using Btmc.Testing;
using Xunit;

namespace Btmc.Platform.Tests.Tables;

public sealed class TablePagingTests : IDisposable
{
    private readonly TempDirectory _directory = new();
    private readonly SqliteTableServiceClient _service;
    private readonly ITableClient _table;

    public TablePagingTests()
    {
        _service = new SqliteTableServiceClient(Path.Combine(_directory.Path, "tables.db"));
        _table = _service.GetTableClient("paged");
    }

    [Fact]
    public async Task QueryAllAsync_ManyPages_YieldsEveryRowInKeyOrderOnce()
    {
        await FillAsync(10);

        var rows = new List<string>();
        await foreach (var row in _table.QueryAllAsync(new TableQuery("p", MaxPerPage: 3)))
        {
            rows.Add(row.RowKey);
        }

        Assert.Equal(Enumerable.Range(0, 10).Select(Key), rows);
    }

    [Fact]
    public async Task QueryAllAsync_RowKeyRangeAndSelect_AreKeptOnEveryPage()
    {
        await FillAsync(10);

        var rows = await _table.QueryListAsync(new TableQuery("p", Key(2), Key(8), MaxPerPage: 2, Select: ["N"]));

        Assert.Equal(Enumerable.Range(2, 6).Select(Key), rows.Select(r => r.RowKey));
        Assert.All(rows, r => Assert.False(r.Properties.ContainsKey("Other")));
    }

    [Fact]
    public async Task QueryAllAsync_StoppedEarly_ReadsNoFurtherPage()
    {
        await FillAsync(10);
        var counting = new CountingTable(_table);

        await foreach (var row in counting.QueryAllAsync(new TableQuery("p", MaxPerPage: 3)))
        {
            if (row.RowKey == Key(1))
            {
                break;
            }
        }

        Assert.Equal(1, counting.Queries);
    }

    public void Dispose()
    {
        _service.Dispose();
        _directory.Dispose();
    }

    private static string Key(int i) => i.ToString("D3", System.Globalization.CultureInfo.InvariantCulture);

    private async Task FillAsync(int count)
    {
        await _table.CreateIfNotExistsAsync();
        await TableTransactions.SubmitAsync(_table, [.. Enumerable.Range(0, count).Select(i => new TableTransactionAction(
            TableTransactionActionType.UpsertReplace, new TableEntity("p", Key(i), new Dictionary<string, object> { ["N"] = (long)i, ["Other"] = "x" })))]);
    }

    /// <summary>The real table, counting the pages asked for.</summary>
    private sealed class CountingTable(ITableClient inner) : DelegatingTableClient(inner)
    {
        public int Queries { get; private set; }

        public override Task<TablePage> QueryAsync(TableQuery query, CancellationToken cancellationToken = default)
        {
            Queries++;
            return base.QueryAsync(query, cancellationToken);
        }
    }
}

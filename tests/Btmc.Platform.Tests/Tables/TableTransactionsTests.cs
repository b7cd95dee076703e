using Btmc.Platform.Tables;
using Xunit;

namespace Btmc.Platform.Tests.Tables;

public sealed class TableTransactionsTests
{
    [Fact]
    public void Split_250SmallActionsOnOnePartition_HundredsThenTheRest()
    {
        var actions = Enumerable.Range(0, 250).Select(i => Upsert("p", i, 10)).ToList();

        var chunks = TableTransactions.Split(actions).ToList();

        Assert.Equal([100, 100, 50], chunks.Select(c => c.Count));
        Assert.Equal(actions, chunks.SelectMany(c => c));
    }

    [Fact]
    public void Split_HundredEntitiesOfSixtyKilobytes_EachTransactionWithinFourMebibytes()
    {
        var actions = Enumerable.Range(0, 100).Select(i => Upsert("p", i, 60 * 1024)).ToList();

        var chunks = TableTransactions.Split(actions).ToList();

        Assert.True(chunks.Count >= 2, $"{chunks.Count} transaction(s)");
        Assert.Equal(actions, chunks.SelectMany(c => c));
        foreach (var chunk in chunks)
        {
            TableRules.ValidateTransaction(chunk); // throws 413 past 4 MiB
        }
    }

    [Fact]
    public void Split_PartitionKeyChanges_NewTransactionAtEachChange()
    {
        var actions = new[] { Upsert("a", 0, 1), Upsert("a", 1, 1), Upsert("b", 0, 1), Upsert("a", 2, 1) };

        var chunks = TableTransactions.Split(actions).ToList();

        Assert.Equal([2, 1, 1], chunks.Select(c => c.Count));
        Assert.Equal(["a", "b", "a"], chunks.Select(c => c[0].Entity.PartitionKey));
    }

    [Fact]
    public async Task SubmitAsync_LargeEntitiesOnSqlite_AllWrittenNothingRefused()
    {
        var folder = Directory.CreateTempSubdirectory("btmc-tx-").FullName;
        try
        {
            using var service = new SqliteTableServiceClient(Path.Combine(folder, "t.db"));
            var table = service.GetTableClient("big");
            await table.CreateIfNotExistsAsync();
            var actions = Enumerable.Range(0, 100).Select(i => Upsert("p", i, 60 * 1024)).ToList();
            await Assert.ThrowsAsync<TableStoreException>(() => table.SubmitTransactionAsync(actions));

            await TableTransactions.SubmitAsync(table, actions);

            var page = await table.QueryAsync(new TableQuery("p", MaxPerPage: 1000));
            Assert.Equal(100, page.Items.Count);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static TableTransactionAction Upsert(string partitionKey, int row, int bytes) =>
        new(TableTransactionActionType.UpsertReplace, new TableEntity(partitionKey, row.ToString("D5", System.Globalization.CultureInfo.InvariantCulture),
            new Dictionary<string, object> { ["Data"] = new byte[bytes] }));
}

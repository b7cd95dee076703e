using Btmc.Platform.Tables;
using Btmc.Testing;

namespace Btmc.Platform.Tests.Tables;

/// <summary>The table store contract, run on the embedded SQLite store in a temporary folder.</summary>
public sealed class SqliteTableStoreContractTests : TableStoreContractTests, IDisposable
{
    private readonly TempDirectory _directory = new();
    private SqliteTableServiceClient? _client;

    protected override ITableServiceClient CreateServiceClient() =>
        _client = new SqliteTableServiceClient(_directory.Combine("tables.db"));

    public void Dispose()
    {
        _client?.Dispose();
        _directory.Dispose();
    }
}

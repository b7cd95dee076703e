using Btmc.Platform.Azure.Tables;
using Btmc.Platform.Tables;
using Btmc.Testing;

namespace Btmc.Platform.Azure.Tests.Tables;

/// <summary>
/// The table store contract (<see cref="TableStoreContractTests"/>, the suite the embedded store also runs), on
/// Azurite's table service through <see cref="AzureTableStore"/> and the Azure.Data.Tables SDK. ./test.sh installs
/// Azurite (package.json), starts it and exports its connection string in <see cref="ConnectionStringVariable"/>;
/// without it these tests fail rather than skip.
/// </summary>
public sealed class AzureTableStoreContractTests : TableStoreContractTests
{
    public const string ConnectionStringVariable = "BTMC_TEST_AZURITE_TABLES";

    /// <summary>
    /// Azurite checks single property values but neither the property count nor the size of a merged entity
    /// (azurite 3.37.0, dist/src/table/handlers/TableHandler.js, checkProperties), so a merge up to 300 properties
    /// succeeds there; Azure refuses it with 400.
    /// </summary>
    protected override bool RefusesOversizedMergeResult => false;

    protected override ITableServiceClient CreateServiceClient()
    {
        var connectionString = Environment.GetEnvironmentVariable(ConnectionStringVariable);
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            throw new InvalidOperationException(
                $"{ConnectionStringVariable} is not set: these contract tests run against Azurite. Run ./test.sh, which starts Azurite and sets it.");
        }

        return new AzureTableStore(connectionString);
    }
}

using Btmc.Ledger;
using Btmc.Supply.Query;
using Xunit;

namespace Btmc.Functions.Tests.Supply;

/// <summary>
/// The same ledger as <see cref="QueryPlanningEndpointsTests"/> with its tables on Azure Table storage (Azurite, which
/// ./test.sh starts): pages of one event make the index reads go on with Table storage's continuation tokens, each
/// read asking for more rows than the one before.
/// </summary>
public sealed class QueryPlanningOnAzuriteTests(QueryPlanningOnAzuriteTests.AzuriteCompetitorsLedger ledger) : IClassFixture<QueryPlanningOnAzuriteTests.AzuriteCompetitorsLedger>
{
    [Theory]
    [InlineData("EQ_bizStep=shipping", "EQ_bizStep")]
    [InlineData("GE_eventTime=2026-11-20T00:00:00Z&LT_eventTime=2026-11-22T00:00:00Z", "GE_eventTime")]
    [InlineData("EQ_bizTransaction_po=urn:epc:id:gdti:4012345.00001.PO2", "EQ_bizTransaction_po")]
    public async Task Query_IndexedParameterOnTableStorage_EveryPageAsAScanAnswers(string parameters, string indexedBy)
    {
        var backend = ledger.Server.Backend;
        var scan = new EventQuery(backend.Options, backend.Reader, backend.Terms, new QueryLimits(UseIndex: false));
        var fab = new Caller("fab-a", PartnerRoles.Partner, ["4012345"], []);
        using var client = ledger.Server.ClientAs(fab.PartnerId);
        var expected = (await scan.RunAsync(QueryPlanningEndpointsTests.Parse(parameters + "&perPage=1000"), fab)).Events.Select(QueryPlanningEndpointsTests.HashId).ToList();

        var (found, pages) = await QueryPlanningEndpointsTests.ReadAllPagesAsync(client, parameters + "&perPage=1");

        Assert.Equal(indexedBy, EventQuery.IndexedParameter(QueryPlanningEndpointsTests.Parse(parameters)));
        Assert.NotEmpty(expected);
        Assert.Equal(expected, found);
        Assert.All(pages.SkipLast(1), size => Assert.Equal(1, size));
    }

    /// <summary>The competitors' ledger on Azurite, under a table prefix of its own.</summary>
    public sealed class AzuriteCompetitorsLedger : QueryPlanningEndpointsTests.CompetitorsLedger
    {
        private const string ConnectionStringVariable = "BTMC_TEST_AZURITE_TABLES";

        private protected override Task<LocalServer> StartServerAsync()
        {
            var connectionString = Environment.GetEnvironmentVariable(ConnectionStringVariable);
            Assert.False(string.IsNullOrEmpty(connectionString), $"{ConnectionStringVariable} is not set: run ./test.sh, which starts Azurite and sets it.");
            return LocalServer.StartInProcessAsync(null, "--Tables:ConnectionString", connectionString!, "--Supply:TablePrefix", "t" + Guid.NewGuid().ToString("N")[..12]);
        }
    }
}

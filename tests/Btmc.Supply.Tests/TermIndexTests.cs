using Btmc.Chains;
using Btmc.Epcis;
using Btmc.Ledger;
using Btmc.Supply.Query;
using Xunit;

namespace Btmc.Supply.Tests;

public sealed class TermIndexTests
{
    private static EventTerms Terms(params string[] epcs) =>
        new("ObjectEvent", "OBSERVE", new DateTimeOffset(2026, 11, 22, 10, 0, 0, TimeSpan.Zero), null, "urn:uuid:1", false, null,
            epcs.Select(e => new EpcTerm(e, EpcRoles.Epc)).ToList());

    [Theory]
    [InlineData("https://id.gs1.org/01/10614141073464/21/a#b?c%d|e\\f")]
    [InlineData("urn:example:é-ü")]
    [InlineData("urn:example:long-")]
    public async Task FindEpcAsync_TermsTableKeysCannotHold_AreFoundExactly(string term)
    {
        if (term.EndsWith('-'))
        {
            term += new string('x', 2 * TermIndex.MaxPlainKeyLength);
        }

        await using var harness = await SupplyHarness.StartAsync(partitions: 2);
        var index = harness.Backend.Terms;
        await index.WriteAsync(1, 3, Hash32.Compute("block"u8), [(7, "evt-a", Terms(term, term + "z", term[..^1]))], CancellationToken.None);

        var hit = Assert.Single(await index.FindEpcAsync(term));

        Assert.Equal(new LedgerPosition("supply-1", 3, 7), hit.Position);
        Assert.Equal("evt-a", hit.EventId);
        Assert.Equal(EpcRoles.Epc, hit.Roles);
        Assert.Equal("evt-a", Assert.Single(await index.FindEventIdAsync("urn:uuid:1")).EventId);
        Assert.Empty(await index.FindEpcAsync(term + "y"));
    }

    [Fact]
    public async Task FindEpcAsync_RowsOfSeveralChains_ComeInEventTimeOrder()
    {
        await using var harness = await SupplyHarness.StartAsync(partitions: 2);
        var index = harness.Backend.Terms;
        var early = Terms("urn:example:x") with { EventTime = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero) };
        await index.WriteAsync(1, 0, Hash32.Compute("b1"u8), [(0, "late", Terms("urn:example:x"))], CancellationToken.None);
        await index.WriteAsync(0, 5, Hash32.Compute("b0"u8), [(2, "early", early)], CancellationToken.None);

        var hits = await index.FindEpcAsync("urn:example:x");

        Assert.Equal(["early", "late"], hits.Select(h => h.EventId));
    }

    [Fact]
    public async Task FindBizTransactionAsync_EventsNamingTheTransaction_FoundOnceEachAndNoOthers()
    {
        await using var harness = await SupplyHarness.StartAsync(partitions: 2);
        var index = harness.Backend.Terms;
        const string po = "urn:epcglobal:cbv:bt:4012345000009:PO/1?x";
        var twice = Terms("urn:example:a") with { BizTransactions = [new("po", po), new("desadv", po)] };
        var other = Terms("urn:example:b") with { BizTransactions = [new("inv", po + "0")] };
        await index.WriteAsync(0, 1, Hash32.Compute("b"u8), [(0, "named-twice", twice), (1, "other", other), (2, "none", Terms("urn:example:c"))], CancellationToken.None);

        var hits = await index.FindBizTransactionAsync(po);

        Assert.Equal("named-twice", Assert.Single(hits).EventId);
        Assert.Equal(new LedgerPosition("supply-0", 1, 0), hits[0].Position);
        Assert.Equal("other", Assert.Single(await index.FindBizTransactionAsync(po + "0")).EventId);
        Assert.Empty(await index.FindBizTransactionAsync("urn:epcglobal:cbv:bt:4012345000009:PO"));
    }
}

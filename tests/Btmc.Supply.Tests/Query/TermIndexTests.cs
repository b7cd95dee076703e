using Btmc.Chains;
using Btmc.Epcis;
using Btmc.Ledger;
using Btmc.Supply.Query;
using Xunit;

namespace Btmc.Supply.Tests.Query;

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

    [Fact]
    public async Task FindBizTransactionAsync_UriWrittenInAnotherSpelling_FindsTheEvent()
    {
        await using var harness = await SupplyHarness.StartAsync(partitions: 2);
        var index = harness.Backend.Terms;
        var asDigitalLink = Terms("urn:example:a") with { BizTransactions = [new("po", "https://id.gs1.org/253/4012345000016PO7")] };
        await index.WriteAsync(1, 2, Hash32.Compute("b"u8), [(4, "dl", asDigitalLink)], CancellationToken.None);

        var hits = await index.FindBizTransactionAsync("urn:epc:id:gdti:4012345.00001.PO7");

        Assert.Equal("dl", Assert.Single(hits).EventId);
    }

    [Fact]
    public async Task WriteAsync_EventWithPlacesStepAndTime_OneRowOfEachOnItsOwnChain()
    {
        await using var harness = await SupplyHarness.StartAsync(partitions: 2);
        var index = harness.Backend.Terms;
        var time = new DateTimeOffset(2026, 12, 8, 3, 59, 59, TimeSpan.FromHours(1));
        var terms = Terms("urn:example:a") with { EventTime = time, BizStep = "shipping", ReadPoint = "urn:example:dock", BizLocation = "urn:example:store" };
        await index.WriteAsync(1, 2, Hash32.Compute("b"u8), [(4, "evt", terms)], CancellationToken.None);

        foreach (var term in new[] { TermIndex.ReadPoint(1, "urn:example:dock"), TermIndex.BizLocation(1, "urn:example:store"), TermIndex.BizStep(1, "shipping"), TermIndex.Hour(1, time) })
        {
            var row = Assert.Single(await ReadAsync(index, term, 0, 0, 0));
            Assert.Equal((1, 2L, 4L, Hash32.Compute("b"u8)), (row.Chain, row.Height, row.Leaf, row.BlockHash));
            Assert.Empty(await ReadAsync(index, term with { Term = "000" + term.Term[3..] }, 0, 0, 0));
        }

        // 03:59:59+01:00 is 02:59:59Z: the bucket of 02:00Z.
        Assert.Equal("001:2026120802", TermIndex.Hour(1, time).Term);
        Assert.Single(await ReadAsync(index, TermIndex.Hour(1, new DateTimeOffset(2026, 12, 8, 2, 0, 0, TimeSpan.Zero)), 0, 0, 0));
    }

    [Fact]
    public async Task ReadFromAsync_FromAPosition_RowsAtOrAfterItInLedgerOrder()
    {
        await using var harness = await SupplyHarness.StartAsync(partitions: 2);
        var index = harness.Backend.Terms;
        var terms = Terms("urn:example:a") with { BizStep = "storing" };
        // Written out of ledger order, over several pages of the first read (first page 2 rows).
        foreach (var height in new long[] { 5, 1, 3 })
        {
            await index.WriteAsync(0, height, Hash32.Compute("b"u8), [(0, "x", terms), (1, "y", terms), (2, "z", terms)], CancellationToken.None);
        }

        var rows = await ReadAsync(index, TermIndex.BizStep(0, "storing"), 0, 3, 1);

        Assert.Equal([(3L, 1L), (3L, 2L), (5L, 0L), (5L, 1L), (5L, 2L)], rows.Select(r => (r.Height, r.Leaf)));
    }

    private static async Task<List<TermRow>> ReadAsync(TermIndex index, TermKey term, int chain, long height, long leaf)
    {
        var rows = new List<TermRow>();
        await foreach (var row in index.ReadFromAsync(term, chain, height, leaf, firstPage: 2))
        {
            rows.Add(row);
        }

        return rows;
    }
}

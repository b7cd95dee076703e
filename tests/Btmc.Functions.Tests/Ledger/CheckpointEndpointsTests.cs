using System.Net;
using System.Text.Json;
using Btmc.Chains;
using Btmc.Governance;
using Btmc.Ledger;
using Btmc.Ledger.Transparency;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Btmc.Functions.Tests.Ledger;

public sealed class CheckpointEndpointsTests
{
    private static async Task SealRoundsAsync(LocalServer server, int rounds, int events = 6)
    {
        for (var round = 0; round < rounds; round++)
        {
            var (_, body, _) = await server.CaptureAsync(CaptureEndpointsTests.Document(
                Enumerable.Range(0, events).Select(i => CaptureEndpointsTests.Event($"urn:epc:id:sgtin:0614141.107346.{round}9{i}")).ToArray()));
            await server.WaitSealedAsync(body.GetProperty("captureId").GetString()!);
        }
    }

    private static (SignedNote Note, Checkpoint Checkpoint) Read(JsonElement view)
    {
        var note = SignedNote.Parse(view.GetProperty("checkpoint").GetString()!);
        return (note, Checkpoint.Parse(note.Text));
    }

    [Fact]
    public async Task ListCheckpoints_AfterSealing_EveryChainsLatestIsSignedByItsBlocksProducer()
    {
        await using var server = await LocalServer.StartInProcessAsync();
        await SealRoundsAsync(server, 2);

        using var anonymous = new HttpClient { BaseAddress = server.Http.BaseAddress };
        var list = JsonDocument.Parse(await anonymous.GetStringAsync("api/ledger/checkpoints")).RootElement.GetProperty("chains").EnumerateArray().ToList();

        Assert.Contains(list, c => c.GetProperty("chainId").GetString() == "governance");
        var origins = new HashSet<string>();
        foreach (var view in list)
        {
            var (note, checkpoint) = Read(view);
            var chainId = view.GetProperty("chainId").GetString()!;
            Assert.EndsWith("/" + chainId, checkpoint.Origin, StringComparison.Ordinal);
            origins.Add(checkpoint.Origin[..checkpoint.Origin.LastIndexOf('/')]);
            Assert.Equal(view.GetProperty("size").GetInt64(), checkpoint.Size);
            Assert.Equal((view.GetProperty("height").GetInt64(), Hash32.FromHex(view.GetProperty("blockHash").GetString()!)), checkpoint.Block);
            var key = view.GetProperty("producerKey").Deserialize<EcPublicJwk>()!;
            Assert.True(EcdsaNoteKey.Verify(note, checkpoint.Origin, key), $"{chainId}: the checkpoint does not verify with its producer's key");
        }

        Assert.Single(origins);
    }

    [Fact]
    public async Task Consistency_BetweenTwoCheckpoints_VerifiesAgainstBothRootsAndTheFrontierFoldsToTheOldRoot()
    {
        await using var server = await LocalServer.StartInProcessAsync();
        await SealRoundsAsync(server, 1);
        var chainId = (await server.GetJsonAsync("api/ledger/checkpoints")).GetProperty("chains").EnumerateArray()
            .First(c => c.GetProperty("chainId").GetString()!.StartsWith("supply", StringComparison.Ordinal)).GetProperty("chainId").GetString()!;
        var old = await server.GetJsonAsync($"api/ledger/checkpoints/{chainId}");
        await SealRoundsAsync(server, 3);
        var latest = await server.GetJsonAsync($"api/ledger/checkpoints/{chainId}");
        var (_, oldCheckpoint) = Read(old);
        var (_, newCheckpoint) = Read(latest);
        Assert.True(newCheckpoint.Size > oldCheckpoint.Size, "the chain did not grow");

        var proof = await server.GetJsonAsync($"api/ledger/chains/{chainId}/consistency?from={oldCheckpoint.Size}&to={newCheckpoint.Size}");
        var nodes = proof.GetProperty("proof").EnumerateArray().Select(n => Hash32.FromHex(n.GetString()!)).ToArray();
        MerkleTree.VerifyConsistency(oldCheckpoint.Size, newCheckpoint.Size, nodes, oldCheckpoint.RootHash, newCheckpoint.RootHash);

        var frontier = MerkleFrontier.FromNodes(oldCheckpoint.Size, old.GetProperty("frontier").EnumerateArray().Select(n => Hash32.FromHex(n.GetString()!)));
        Assert.Equal(oldCheckpoint.RootHash, frontier.ComputeRoot());
        var bySize = await server.GetJsonAsync($"api/ledger/checkpoints/{chainId}?size={oldCheckpoint.Size}");
        Assert.Equal(old.GetProperty("checkpoint").GetString(), bySize.GetProperty("checkpoint").GetString());
    }

    [Theory]
    [InlineData("from=0&to=3", "from")]
    [InlineData("from=x&to=3", "from")]
    [InlineData("from=3&to=2", "to")]
    [InlineData("from=1&to=999999", "to")]
    public async Task Consistency_BadSizes_AnswersProblemNamingTheField(string query, string field)
    {
        await using var server = await LocalServer.StartInProcessAsync();
        await SealRoundsAsync(server, 1);
        using var response = await server.Http.GetAsync($"api/ledger/chains/governance/consistency?{query}");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains($"\"{field}\"", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RootCheckpoint_SealedForARound_CommitsToEveryChainsLatestCheckpointUnderTheRoundsProducer()
    {
        await using var server = await LocalServer.StartInProcessAsync();
        await SealRoundsAsync(server, 1);
        var sealedSizes = (await server.GetJsonAsync("api/ledger/checkpoints")).GetProperty("chains").EnumerateArray()
            .ToDictionary(c => c.GetProperty("chainId").GetString()!, c => c.GetProperty("size").GetInt64());

        // Seal a root for a round far ahead, as the round's producer would at its start (this process holds the only key);
        // it commits to the chains' latest checkpoints, those sizes or larger.
        var governance = server.Services.GetRequiredService<GovernanceLedger>();
        var round = governance.Rules.Clock.RoundOf(governance.Rules.Clock.SlotAt(DateTimeOffset.UtcNow)) + 1000;
        var chainIds = await server.Backend.Reader.Chain.KnownChainsAsync(server.Backend.ChainIds);
        Assert.NotNull(await new RootCheckpoints(server.Backend.Reader.Chain).SealAsync(round, governance.Rules, governance.Scheduler.Keys, chainIds));
        using var anonymous = new HttpClient { BaseAddress = server.Http.BaseAddress };
        var root = JsonDocument.Parse(await anonymous.GetStringAsync($"api/ledger/checkpoints/root?round={round}")).RootElement;
        var sizes = root.GetProperty("chains").EnumerateArray().Select(n => Checkpoint.Parse(SignedNote.Parse(n.GetString()!).Text))
            .ToDictionary(c => c.Origin[(c.Origin.LastIndexOf('/') + 1)..], c => c.Size);
        Assert.All(sealedSizes, s => Assert.True(sizes.GetValueOrDefault(s.Key) >= s.Value, $"{s.Key}: the root commits to size {sizes.GetValueOrDefault(s.Key)}, below {s.Value}"));
        Assert.Equal(round, root.GetProperty("round").GetInt64());
        Assert.Null(await new RootCheckpoints(server.Backend.Reader.Chain).SealAsync(round, governance.Rules, governance.Scheduler.Keys, chainIds));

        var keys = governance.State.Producers.Values.Select(p => p.PublicKey).ToList();
        var rootCheckpoint = new RootCheckpoint(root.GetProperty("round").GetInt64(), root.GetProperty("checkpoint").GetString()!,
            root.GetProperty("chains").EnumerateArray().Select(n => n.GetString()!).ToList());
        Assert.Null(RootCheckpoints.Verify(rootCheckpoint, governance.Rules, keys));
        Assert.Equal(rootCheckpoint.Chains.Count, Checkpoint.Parse(SignedNote.Parse(rootCheckpoint.Note).Text).Size);

        var dropped = rootCheckpoint with { Chains = rootCheckpoint.Chains.Skip(1).ToList() };
        Assert.Contains("not the tree", RootCheckpoints.Verify(dropped, governance.Rules, keys), StringComparison.Ordinal);
        var otherRound = rootCheckpoint with { Round = rootCheckpoint.Round + 1 };
        Assert.NotNull(RootCheckpoints.Verify(otherRound, governance.Rules, keys));
        using var missing = await anonymous.GetAsync($"api/ledger/checkpoints/root?round={round + 1}");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }
}

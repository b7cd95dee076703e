using System.Text.Json;
using Btmc.Platform.Keys;
using Xunit;

namespace Btmc.Functions.Tests.Governance;

/// <summary>Token holders' votes, weighted by the holdings the committee allocated, through the CLI.</summary>
public sealed class VoteTests
{
    [Fact]
    public async Task Vote_HolderWithAllocatedTokens_WeighsOnTheProducersItNames()
    {
        await using var committee = await Committee.StartAsync(
            "--Producers:0:Id", "fab-a", "--Producers:0:Key", "fab-a.pem", "--Producers:1:Id", "osat-b", "--Producers:1:Key", "osat-b.pem");
        var holderKey = Path.Combine(committee.KeysPath, "holder.pem");
        Assert.Equal(0, (await committee.BtmcAsync("committee", "keygen", "--out", holderKey, "--curve", "secp256k1")).Exit);
        string account;
        using (var holder = LocalKeyFileSigner.Open(holderKey))
        {
            account = holder.KeyId;
        }

        var allocation = await committee.ProposeAsync("alice", "allocate-tokens", "--account", account, "--amount", "250");
        Assert.Equal(0, (await committee.SignAsync("bob", allocation)).Exit);
        Assert.Equal(0, (await committee.SignAsync("dave", allocation)).Exit);

        var first = await committee.BtmcAsync("vote", "--producers", "osat-b", "--key", holderKey);
        Assert.True(first.Exit == 0, first.Error);
        Assert.Contains("# vote recorded: sequence 1, weight 250", first.Output, StringComparison.Ordinal);
        Assert.Equal(250, Votes(await committee.Server.GetJsonAsync("api/governance"), "osat-b"));

        var second = await committee.BtmcAsync("vote", "--producers", "fab-a,osat-b", "--key", holderKey);
        Assert.Equal(0, second.Exit);
        var replayed = await committee.BtmcAsync("vote", "--producers", "fab-a", "--key", holderKey, "--sequence", "2");
        var unknown = await committee.BtmcAsync("vote", "--producers", "nobody", "--key", holderKey);

        Assert.Equal(1, replayed.Exit);
        Assert.Contains("409", replayed.Error, StringComparison.Ordinal);
        Assert.Contains("(sequence)", replayed.Error, StringComparison.Ordinal);
        Assert.Equal(1, unknown.Exit);
        Assert.Contains("'nobody' is not registered", unknown.Error, StringComparison.Ordinal);
        var overview = await committee.Server.GetJsonAsync("api/governance");
        Assert.Equal(250, Votes(overview, "fab-a"));
        Assert.Equal(250, Votes(overview, "osat-b"));
        var verify = await committee.Server.GetJsonAsync("api/ledger/verify");
        Assert.True(verify.GetProperty("isValid").GetBoolean(), verify.ToString());
    }

    private static long Votes(JsonElement overview, string producer) =>
        overview.GetProperty("producers").EnumerateArray().Single(p => p.GetProperty("producer").GetString() == producer).GetProperty("votes").GetInt64();
}

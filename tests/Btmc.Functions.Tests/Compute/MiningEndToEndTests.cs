using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Btmc.Cli;
using Btmc.Compute.Mining;
using Btmc.Platform.Keys;
using Btmc.Testing;
using Xunit;

namespace Btmc.Functions.Tests.Compute;

/// <summary>Contributors mining over HTTP with the CLI: shares accounted, epochs closed into the compute chain, payouts
/// paid pro rata and proven by receipts checked offline.</summary>
public sealed class MiningEndToEndTests
{
    // 10-second epochs of 1-second buckets, 10-bit shares, closed 1 s after they end.
    private static readonly string[] FastEpochs =
    [
        "--Compute:EpochSeconds", "10", "--Compute:BucketSeconds", "1", "--Compute:ShareDifficultyBits", "10", "--Compute:CloseGraceSeconds", "1",
        "--Compute:RewardPool", "1000",
    ];

    [Fact]
    public async Task Mining_TwoContributors_EpochClosesWithProRataPayoutsAndVerifiableReceipts()
    {
        using var keys = new TempDirectory();
        await using var server = await LocalServer.StartInProcessAsync(null, FastEpochs);
        foreach (var id in new[] { "rig-a", "rig-b" })
        {
            Assert.Equal(0, await Cli(server, "committee", "keygen", "--out", keys.Combine(id + ".pem")));
            Assert.Equal(0, await Cli(server, "contributor", "register", "--id", id, "--resource", "gpu", "--key", keys.Combine(id + ".pem")));
        }

        // Start just after an epoch boundary so both miners' work lands in one epoch.
        var epochSeconds = 10;
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        await Task.Delay(TimeSpan.FromMilliseconds(((epochSeconds - (now % epochSeconds)) * 1000) + 200));
        var epoch = DateTimeOffset.UtcNow.ToUnixTimeSeconds() / epochSeconds;
        await Task.WhenAll(
            Cli(server, "mine", "--contributor", "rig-a", "--key", keys.Combine("rig-a.pem"), "--seconds", "4", "--threads", "1"),
            Cli(server, "mine", "--contributor", "rig-b", "--key", keys.Combine("rig-b.pem"), "--seconds", "2", "--threads", "1"));

        var closed = await WaitClosedAsync(server, epoch);
        var payouts = closed.GetProperty("payouts").EnumerateArray().ToDictionary(p => p.GetProperty("contributor").GetString()!);
        Assert.Equal(1000, closed.GetProperty("summary").GetProperty("paid").GetInt64());
        Assert.Equal(1000, payouts.Values.Sum(p => p.GetProperty("payout").GetInt64()));
        Assert.True(payouts["rig-a"].GetProperty("accepted").GetInt64() > 0);
        Assert.True(payouts["rig-b"].GetProperty("accepted").GetInt64() > 0);
        // Rig A mined twice as long on one thread each: its work, and so its payout, is larger.
        Assert.True(payouts["rig-a"].GetProperty("payout").GetInt64() > payouts["rig-b"].GetProperty("payout").GetInt64(), closed.ToString());

        var receiptFile = keys.Combine("payout.json");
        Assert.Equal(0, await Cli(server, "payout", epoch.ToString(System.Globalization.CultureInfo.InvariantCulture), "rig-a", "--out", receiptFile));
        var output = new StringWriter();
        Assert.Equal(0, await BtmcCli.RunAsync(["verify-payout", receiptFile], output, TextWriter.Null));
        Assert.Contains($"VALID: rig-a was paid {payouts["rig-a"].GetProperty("payout").GetInt64()} in epoch {epoch}", output.ToString(), StringComparison.Ordinal);

        // A receipt whose payout was raised no longer proves anything.
        var receipt = JsonDocument.Parse(await File.ReadAllTextAsync(receiptFile)).RootElement;
        var record = System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(receipt.GetProperty("record").GetString()!));
        var raised = record.Replace($"\"payout\":{payouts["rig-a"].GetProperty("payout").GetInt64()}", "\"payout\":999", StringComparison.Ordinal);
        Assert.NotEqual(record, raised);
        await File.WriteAllTextAsync(receiptFile, (await File.ReadAllTextAsync(receiptFile)).Replace(receipt.GetProperty("record").GetString()!, Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(raised)), StringComparison.Ordinal));
        var error = new StringWriter();
        Assert.Equal(1, await BtmcCli.RunAsync(["verify-payout", receiptFile], TextWriter.Null, error));
        Assert.Contains("not included in the block", error.ToString(), StringComparison.Ordinal);

        var verify = await server.GetJsonAsync("api/ledger/verify");
        Assert.True(verify.GetProperty("isValid").GetBoolean(), verify.ToString());
        Assert.Contains(verify.GetProperty("chains").EnumerateArray(), c => c.GetProperty("chainId").GetString() == "compute" && c.GetProperty("entries").GetInt64() >= 3);
    }

    [Fact]
    public async Task Shares_DuplicateInvalidAndForeign_AreRejectedAndCountedPerContributor()
    {
        using var keys = new TempDirectory();
        await using var server = await LocalServer.StartInProcessAsync(null, [.. FastEpochs, "--Compute:EpochSeconds", "3600"]);
        Assert.Equal(0, await Cli(server, "committee", "keygen", "--out", keys.Combine("rig.pem"), "--curve", "secp256k1"));
        Assert.Equal(0, await Cli(server, "contributor", "register", "--id", "rig", "--resource", "asic", "--key", keys.Combine("rig.pem")));
        using var key = LocalKeyFileSigner.Open(keys.Combine("rig.pem"));
        var job = (await server.GetJsonAsync("api/compute/mining/job?contributor=rig")).Deserialize<MiningJob>(JsonSerializerOptions.Web)!;
        var header = Convert.FromHexString(job.Header);
        var good = Enumerable.Range(0, 1 << 16).Select(i => (ulong)i).Where(n => ShareHash.Meets(header, n, job.DifficultyBits)).Take(3).ToList();
        var bad = Enumerable.Range(0, 100).Select(i => (ulong)i).First(n => !ShareHash.Meets(header, n, job.DifficultyBits));

        Assert.Equal(HttpStatusCode.Accepted, await SubmitAsync(server, key, "rig", new JobShares(job.Header, [good[0], good[1], bad])));
        Assert.Equal(HttpStatusCode.Accepted, await SubmitAsync(server, key, "rig", new JobShares(job.Header, [good[1], good[2]])));
        using var stranger = LocalKeyFileSigner.OpenOrCreate(keys.Combine("stranger.pem"));
        Assert.Equal(HttpStatusCode.BadRequest, await SubmitAsync(server, stranger, "rig", new JobShares(job.Header, [good[2]])));

        var power = await WaitAsync(server, "api/compute/contributors/rig", c => c.GetProperty("power").GetProperty("accepted").GetInt64() == 3);
        Assert.Equal(1, power.GetProperty("power").GetProperty("duplicates").GetInt64());
        Assert.Equal(1, power.GetProperty("power").GetProperty("invalid").GetInt64());
        Assert.Equal(((long)3 << job.DifficultyBits).ToString(System.Globalization.CultureInfo.InvariantCulture), power.GetProperty("power").GetProperty("work").GetString());
    }

    private static async Task<HttpStatusCode> SubmitAsync(LocalServer server, ISigningKey key, string contributor, JobShares shares)
    {
        var unsigned = new ShareSubmission(contributor, DateTimeOffset.UtcNow.ToUnixTimeSeconds(), false, [shares], string.Empty);
        var signed = unsigned with { Signature = Convert.ToBase64String(await key.SignDigestAsync(unsigned.Digest)) };
        using var response = await server.Http.PostAsJsonAsync("api/compute/shares", signed, JsonSerializerOptions.Web);
        return response.StatusCode;
    }

    private static async Task<JsonElement> WaitClosedAsync(LocalServer server, long epoch) =>
        await WaitAsync(server, $"api/compute/epochs/{epoch}", e => e.GetProperty("closed").GetBoolean(), TimeSpan.FromSeconds(30));

    private static async Task<JsonElement> WaitAsync(LocalServer server, string path, Func<JsonElement, bool> done, TimeSpan? timeout = null)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var body = await server.GetJsonAsync(path);
            if (done(body))
            {
                return body;
            }

            Assert.True(watch.Elapsed < (timeout ?? TimeSpan.FromSeconds(15)), $"{path} did not get there: {body}");
            await Task.Delay(100);
        }
    }

    private static async Task<int> Cli(LocalServer server, params string[] args)
    {
        var error = new StringWriter();
        var exit = await BtmcCli.RunAsync(args[0] is "committee" or "verify-payout" ? args : [.. args, "--url", server.BaseUrl], TextWriter.Null, error);
        Assert.True(exit == 0, $"btmc {string.Join(' ', args)}: {error}");
        return exit;
    }
}

using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Xunit;

namespace Btmc.Functions.Tests;

/// <summary>Liveness you can see (issue 12): the chains view and the capture status say how sealing stands and why.</summary>
public sealed class SealingLivenessTests
{
    [Fact]
    public async Task ListChains_EmbeddedDefault_EveryChainShowsItsSealerAndBacklog()
    {
        await using var server = await LocalServer.StartInProcessAsync();
        var (status, body, _) = await server.CaptureAsync(CaptureEndpointsTests.Document(CaptureEndpointsTests.Event("urn:epc:id:sgtin:0614141.700001.1")));
        Assert.Equal(HttpStatusCode.Accepted, status);
        await server.WaitSealedAsync(body.GetProperty("captureId").GetString()!);

        var chains = await server.GetJsonAsync("api/ledger/chains");

        var all = chains.GetProperty("chains").EnumerateArray().ToList();
        Assert.Equal(4, all.Count);
        foreach (var chain in all)
        {
            var sealer = chain.GetProperty("sealer");
            Assert.Contains(sealer.GetProperty("state").GetString(), new[] { "idle", "gathering", "waiting-for-slot", "sealing", "recovering" });
            Assert.False(sealer.GetProperty("stalled").GetBoolean(), chain.ToString());
            Assert.Equal(JsonValueKind.Number, chain.GetProperty("unsealed").ValueKind);
        }
    }

    [Fact]
    public async Task Capture_SecondServerWithItsOwnLogOnTheSameTables_RefusedNamingTheLogThatSeals()
    {
        var tables = EventHubsSealingTests.AzuriteConnectionString();
        string[] settings = ["--Tables:ConnectionString", tables, "--Supply:TablePrefix", "l" + Guid.NewGuid().ToString("N")[..12]];
        await using var first = await LocalServer.StartInProcessAsync(null, settings);
        await using var second = (await LocalServer.StartInProcessAsync(null, settings)).CopyKeysFrom(first);
        var document = CaptureEndpointsTests.Document(CaptureEndpointsTests.Event("urn:epc:id:sgtin:0614141.700002.1"));

        var (refused, problem, _) = await second.CaptureAsync(document);
        var (accepted, body, _) = await first.CaptureAsync(document);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused);
        Assert.Contains("does not seal the ledger in these tables", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Contains(first.DataDirectory, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Accepted, accepted);
        await first.WaitSealedAsync(body.GetProperty("captureId").GetString()!);
        var secondChains = await second.GetJsonAsync("api/ledger/chains");
        Assert.All(secondChains.GetProperty("chains").EnumerateArray(), c => Assert.Equal("not-owner", c.GetProperty("sealer").GetProperty("state").GetString()));
        Assert.Equal(1, secondChains.GetProperty("totalEntries").GetInt64());
    }

    [Fact]
    public async Task ListChainsAndCaptureStatus_TableStoreDownWhileEventsWait_ShowTheFailureThenRecover()
    {
        var azurite = EventHubsSealingTests.AzuriteConnectionString();
        await using var proxy = await TableFaultProxy.StartAsync(azurite);
        // One chain, and a batch gathered for 3 s: time to take the store away before the sealer reads it.
        await using var server = await LocalServer.StartInProcessAsync(null, "--Tables:ConnectionString", TableFaultProxy.Through(azurite, proxy),
            "--Supply:TablePrefix", "f" + Guid.NewGuid().ToString("N")[..12], "--Supply:Partitions", "1", "--Supply:SealMaxDelayMilliseconds", "3000");
        var (status, body, _) = await server.CaptureAsync(CaptureEndpointsTests.Document(CaptureEndpointsTests.Event("urn:epc:id:sgtin:0614141.700003.1")));
        Assert.Equal(HttpStatusCode.Accepted, status);
        var captureId = body.GetProperty("captureId").GetString()!;
        proxy.AnswerServiceUnavailable = true;

        // Stalled (no progress for ten slots) as soon as the sealer is stuck in the store's retries; then failed, with the error.
        var failing = await WaitForChainAsync(server, c => c.GetProperty("sealer").GetProperty("stalled").GetBoolean()
            && c.GetProperty("sealer").GetProperty("lastError").ValueKind == JsonValueKind.String, TimeSpan.FromSeconds(90));
        proxy.AnswerServiceUnavailable = false;
        var captureStatus = await server.GetJsonAsync($"api/epcis/capture/{captureId}");
        var recovered = await WaitForChainAsync(server, c => c.GetProperty("unsealed").GetInt64() == 0 && c.GetProperty("sealer").GetProperty("lastError").ValueKind == JsonValueKind.Null, TimeSpan.FromSeconds(60));

        var sealer = failing.GetProperty("sealer");
        Assert.Equal(1, failing.GetProperty("unsealed").GetInt64());
        Assert.True(sealer.GetProperty("late").GetBoolean(), failing.ToString());
        Assert.Contains("503", sealer.GetProperty("lastError").GetString(), StringComparison.Ordinal);
        Assert.True(sealer.GetProperty("reason").GetString()!.Contains("503", StringComparison.Ordinal), failing.ToString());
        Assert.Equal(1, recovered.GetProperty("totalEntries").GetInt64());
        // The capture status, read while it was still waiting or just after, names its chain.
        if (captureStatus.GetProperty("pending").GetInt32() > 0)
        {
            var chain = captureStatus.GetProperty("sealing").GetProperty("chains")[0];
            Assert.Equal("supply-0", chain.GetProperty("chainId").GetString());
            Assert.Equal(1, chain.GetProperty("events").GetInt32());
        }

        await server.WaitSealedAsync(captureId);
    }

    /// <summary>Polls the chains view until chain supply-0 meets the condition (the view answers even while the store is down).</summary>
    private static async Task<JsonElement> WaitForChainAsync(LocalServer server, Func<JsonElement, bool> condition, TimeSpan timeout)
    {
        var watch = Stopwatch.StartNew();
        var last = default(JsonElement);
        using var poll = new PeriodicTimer(TimeSpan.FromMilliseconds(50));
        while (watch.Elapsed < timeout)
        {
            var chains = await server.GetJsonAsync("api/ledger/chains");
            last = chains.GetProperty("chains").EnumerateArray().First(c => c.GetProperty("chainId").GetString() == "supply-0");
            if (condition(last))
            {
                return last;
            }

            await poll.WaitForNextTickAsync();
        }

        Assert.Fail($"supply-0 did not reach the expected state in {timeout.TotalSeconds} s; last: {last}");
        return last;
    }
}

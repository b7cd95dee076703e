using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Azure.Core;
using Btmc.Compute.Mining;
using Btmc.Compute.Rewards;

namespace Btmc.Cli;

/// <summary>
/// A contributor's side of mining: <c>btmc contributor register</c>, <c>btmc mine</c> (fetch jobs, hash, submit signed
/// shares and heartbeats), and the payout receipts (<c>btmc payout</c>, <c>btmc verify-payout</c>).
/// </summary>
public static class MineCommand
{
    public static async Task<int> RegisterAsync(CliArguments args, TextWriter output, TextWriter error, TokenCredential? credential, CancellationToken cancellationToken)
    {
        if (args.RequirePositional(0, "contributor subcommand (register)") != "register")
        {
            throw new CliUsageException($"unknown contributor subcommand '{args.Positional[0]}'.");
        }

        var id = args.Require("id");
        var resource = args.Option("resource") ?? "cpu";
        var key = await SigningKeys.OpenAsync(args.Require("key"), credential, cancellationToken);
        var publicKey = key.PublicKey with { Kid = null };
        var signature = await key.SignDigestAsync(Contributors.RegistrationDigest(id, resource, publicKey), cancellationToken);
        using var http = BtmcCli.CreateClient(args.Require("url"));
        using var response = await http.PostAsJsonAsync("api/compute/contributors", new { id, resourceType = resource, publicKey, signature = Convert.ToBase64String(signature) }, cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            error.WriteLine($"btmc: {(int)response.StatusCode}: {body}");
            return 1;
        }

        output.WriteLine($"contributor {id} ({resource}) registered with key {key.KeyId}");
        return 0;
    }

    /// <summary>
    /// <c>btmc mine --contributor &lt;id&gt; --key &lt;key&gt; --url &lt;base&gt; [--seconds N] [--threads N]</c>: hashes the
    /// backend's jobs, submits shares (and a heartbeat) once a second, and prints what it did.
    /// </summary>
    public static async Task<int> MineAsync(CliArguments args, TextWriter output, TextWriter error, TokenCredential? credential, CancellationToken cancellationToken)
    {
        var contributor = args.Require("contributor");
        var key = await SigningKeys.OpenAsync(args.Require("key"), credential, cancellationToken);
        var seconds = args.Option("seconds") is { } s ? double.Parse(s, CultureInfo.InvariantCulture) : 60;
        var threads = args.Option("threads") is { } t ? int.Parse(t, CultureInfo.InvariantCulture) : Environment.ProcessorCount;
        using var http = BtmcCli.CreateClient(args.Require("url"));
        var until = Stopwatch.StartNew();
        long hashes = 0, shares = 0, submissions = 0;
        var nonceBase = (ulong)Random.Shared.NextInt64() << 8;
        while (until.Elapsed.TotalSeconds < seconds)
        {
            var job = await http.GetFromJsonAsync<MiningJob>($"api/compute/mining/job?contributor={Uri.EscapeDataString(contributor)}", JsonSerializerOptions.Web, cancellationToken)
                ?? throw new HttpRequestException("empty mining job");
            var header = Convert.FromHexString(job.Header);
            var jobEnds = job.Expires - TimeSpan.FromSeconds(2);
            while (until.Elapsed.TotalSeconds < seconds && DateTimeOffset.UtcNow < jobEnds)
            {
                // About one second of hashing on every thread, then one signed submission with what was found.
                var budget = TimeSpan.FromSeconds(Math.Min(1, seconds - until.Elapsed.TotalSeconds));
                var found = new List<ulong>();
                long round = 0;
                await Parallel.ForAsync(0, threads, cancellationToken, (thread, ct) =>
                {
                    var local = new List<ulong>();
                    var watch = Stopwatch.StartNew();
                    var nonce = nonceBase + ((ulong)thread << 40);
                    long done = 0;
                    Span<byte> hash = stackalloc byte[32];
                    while (watch.Elapsed < budget)
                    {
                        for (var i = 0; i < 4096; i++, nonce++, done++)
                        {
                            ShareHash.Compute(header, nonce, hash);
                            if (ShareHash.LeadingZeroBits(hash) >= job.DifficultyBits)
                            {
                                local.Add(nonce);
                            }
                        }
                    }

                    lock (found)
                    {
                        found.AddRange(local);
                        round += done;
                    }

                    return ValueTask.CompletedTask;
                });
                nonceBase += 1UL << 48;
                hashes += round;
                shares += found.Count;
                await SubmitAsync(http, key, contributor, job.Header, found, cancellationToken);
                submissions++;
            }
        }

        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"mined {seconds:0.#} s: {hashes} hashes ({hashes / until.Elapsed.TotalSeconds:N0} H/s), {shares} shares in {submissions} submissions"));
        return 0;
    }

    /// <summary><c>btmc payout &lt;epoch&gt; &lt;contributor&gt; --url &lt;base&gt; [--out file]</c>.</summary>
    public static async Task<int> PayoutAsync(CliArguments args, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        var epoch = long.Parse(args.RequirePositional(0, "<epoch>"), CultureInfo.InvariantCulture);
        var contributor = args.RequirePositional(1, "<contributor>");
        using var http = BtmcCli.CreateClient(args.Require("url"));
        using var response = await http.GetAsync($"api/compute/epochs/{epoch}/payouts/{Uri.EscapeDataString(contributor)}", cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            error.WriteLine($"btmc: {(int)response.StatusCode}: {body}");
            return 1;
        }

        if (args.Option("out") is { } file)
        {
            await File.WriteAllTextAsync(file, body, cancellationToken);
            output.WriteLine($"payout receipt written to {file}");
        }
        else
        {
            output.WriteLine(body);
        }

        return 0;
    }

    /// <summary><c>btmc verify-payout &lt;file&gt; [--key &lt;jwk&gt;]</c>: checks a payout receipt offline.</summary>
    public static int VerifyPayout(CliArguments args, TextWriter output, TextWriter error)
    {
        var file = args.RequirePositional(0, "<file>");
        PayoutReceipt receipt;
        try
        {
            receipt = JsonSerializer.Deserialize<PayoutReceipt>(File.ReadAllText(file), PayoutReceipt.JsonOptions) ?? throw new JsonException("empty");
        }
        catch (Exception ex) when (ex is IOException or JsonException)
        {
            error.WriteLine($"btmc: cannot read {file}: {ex.Message}");
            return 1;
        }

        var pinned = args.Option("key") is { } keyFile ? SigningKeys.ReadPublicKey(keyFile) : null;
        if (receipt.Verify(pinned) is { } failure)
        {
            error.WriteLine($"INVALID payout receipt: {failure}");
            return 1;
        }

        var payout = receipt.Payout;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"VALID: {payout.Contributor} was paid {payout.Payout} in epoch {payout.Epoch} (PP {payout.Pp:G6}: m {payout.HashRate:G6} H/s × t {payout.OnlineHours:G4} h × e {payout.Persistence:0.0}), {receipt.ChainId} block {receipt.Height} signed by {receipt.ProducerKey.ComputeThumbprint()}"));
        return 0;
    }

    private static async Task SubmitAsync(HttpClient http, Btmc.Platform.Keys.ISigningKey key, string contributor, string header, List<ulong> nonces, CancellationToken cancellationToken)
    {
        var unsigned = new ShareSubmission(contributor, DateTimeOffset.UtcNow.ToUnixTimeSeconds(), Heartbeat: true, [new JobShares(header, nonces)], string.Empty);
        var signature = await key.SignDigestAsync(unsigned.Digest, cancellationToken);
        using var response = await http.PostAsJsonAsync("api/compute/shares", unsigned with { Signature = Convert.ToBase64String(signature) }, JsonSerializerOptions.Web, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"share submission refused: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(cancellationToken)}");
        }
    }
}

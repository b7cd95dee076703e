using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Btmc.Compute.Mining;
using Btmc.Compute.Rewards;
using Btmc.Platform.Azure.Keys;
using Btmc.Platform.Keys;

namespace Btmc.Cli;

/// <summary>
/// A contributor's side of mining: <c>btmc contributor register</c>, <c>btmc mine</c> (fetch jobs, hash, submit signed
/// shares and heartbeats), and the payout receipts (<c>btmc payout</c>, <c>btmc verify-payout</c>).
/// </summary>
internal static class MineCommand
{
    public static IEnumerable<Command> Create(KeyVaultAccess? keyVault, TimeProvider time) =>
    [
        new Command("contributor", "Compute contributors.") { Register(keyVault) },
        Mine(keyVault, time),
        Payout(),
        VerifyPayout(),
    ];

    private static Command Register(KeyVaultAccess? keyVault)
    {
        var id = new Option<string>("--id") { Required = true, Description = "The contributor's id." };
        var resource = new Option<string>("--resource") { Description = "What the contributor computes with.", DefaultValueFactory = _ => "cpu" }.AcceptOnlyFromAmong("cpu", "gpu", "asic");
        var key = CliOptions.SigningKey("contributor");
        var url = CliOptions.Url();
        var command = new Command("register", "Register as a compute contributor; the key signs the registration and every later submission.") { id, resource, key, url };
        command.SetAction(async (parseResult, output, error, cancellationToken) =>
        {
            var contributor = parseResult.GetRequiredValue(id);
            var resourceType = parseResult.GetRequiredValue(resource);
            var signer = await SigningKeys.OpenAsync(parseResult.GetRequiredValue(key), keyVault, cancellationToken);
            var publicKey = signer.PublicKey with { Kid = null };
            var signature = await signer.SignDigestAsync(Contributors.RegistrationDigest(contributor, resourceType, publicKey), cancellationToken);
            using var http = BtmcCli.CreateClient(parseResult.GetRequiredValue(url), parseResult);
            using var response = await http.PostAsJsonAsync("api/compute/contributors", new { id = contributor, resourceType, publicKey, signature = Convert.ToBase64String(signature) }, cancellationToken);
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                error.WriteLine($"btmc: {(int)response.StatusCode}: {body}");
                return 1;
            }

            output.WriteLine($"contributor {contributor} ({resourceType}) registered with key {signer.KeyId}");
            return 0;
        });
        return command;
    }

    /// <summary>
    /// <c>btmc mine --contributor &lt;id&gt; --key &lt;key&gt; --url &lt;base&gt; [--seconds N] [--threads N]</c>: hashes the
    /// backend's jobs, submits shares (and a heartbeat) once a second, and prints what it did.
    /// </summary>
    private static Command Mine(KeyVaultAccess? keyVault, TimeProvider time)
    {
        var contributor = new Option<string>("--contributor") { Required = true, HelpName = "id", Description = "The registered contributor's id." };
        var key = CliOptions.SigningKey("contributor");
        var url = CliOptions.Url();
        var seconds = new Option<double>("--seconds") { HelpName = "N", Description = "How long to mine.", DefaultValueFactory = _ => 60 };
        var threads = new Option<int>("--threads") { HelpName = "N", Description = "Hashing threads, one per processor by default.", DefaultValueFactory = _ => Environment.ProcessorCount }.AtLeast(1);
        var command = new Command("mine", "Hash the backend's mining jobs and submit signed shares and heartbeats.") { contributor, key, url, seconds, threads };
        command.SetAction(async (parseResult, output, _, cancellationToken) =>
        {
            var signer = await SigningKeys.OpenAsync(parseResult.GetRequiredValue(key), keyVault, cancellationToken);
            using var http = BtmcCli.CreateClient(parseResult.GetRequiredValue(url), parseResult);
            output.WriteLine(await MineAsync(http, signer, parseResult.GetRequiredValue(contributor), parseResult.GetValue(seconds), parseResult.GetValue(threads), time, cancellationToken));
            return 0;
        });
        return command;
    }

    /// <summary>Mines for <paramref name="seconds"/>; returns the summary line.</summary>
    private static async Task<string> MineAsync(HttpClient http, ISigningKey key, string contributor, double seconds, int threads, TimeProvider time, CancellationToken cancellationToken)
    {
        var until = Stopwatch.StartNew();
        long hashes = 0, shares = 0, submissions = 0;
        var nonceBase = (ulong)Random.Shared.NextInt64() << 8;
        while (until.Elapsed.TotalSeconds < seconds)
        {
            var job = await http.GetFromJsonAsync<MiningJob>($"api/compute/mining/job?contributor={Uri.EscapeDataString(contributor)}", JsonSerializerOptions.Web, cancellationToken)
                ?? throw new HttpRequestException("empty mining job");
            var header = Convert.FromHexString(job.Header);
            var jobEnds = job.Expires - TimeSpan.FromSeconds(2);
            while (until.Elapsed.TotalSeconds < seconds && time.GetUtcNow() < jobEnds)
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
                await SubmitAsync(http, key, contributor, job.Header, found, time, cancellationToken);
                submissions++;
            }
        }

        return string.Create(CultureInfo.InvariantCulture, $"mined {seconds:0.#} s: {hashes} hashes ({hashes / until.Elapsed.TotalSeconds:N0} H/s), {shares} shares in {submissions} submissions");
    }

    /// <summary><c>btmc payout &lt;epoch&gt; &lt;contributor&gt; --url &lt;base&gt; [--out file]</c>.</summary>
    private static Command Payout()
    {
        var epoch = new Argument<long>("epoch") { Description = "A closed reward epoch." };
        var contributor = new Argument<string>("contributor") { Description = "The contributor's id." };
        var url = CliOptions.Url();
        var file = CliOptions.Out("the receipt");
        var command = new Command("payout", "Print a contributor's payout receipt for a closed reward epoch.") { epoch, contributor, url, file };
        command.SetAction(async (parseResult, output, error, cancellationToken) =>
        {
            using var http = BtmcCli.CreateClient(parseResult.GetRequiredValue(url), parseResult);
            using var response = await http.GetAsync($"api/compute/epochs/{parseResult.GetValue(epoch)}/payouts/{Uri.EscapeDataString(parseResult.GetRequiredValue(contributor))}", cancellationToken);
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                error.WriteLine($"btmc: {(int)response.StatusCode}: {body}");
                return 1;
            }

            if (parseResult.GetValue(file) is { } receiptFile)
            {
                await File.WriteAllTextAsync(receiptFile.FullName, body, cancellationToken);
                output.WriteLine($"payout receipt written to {receiptFile}");
            }
            else
            {
                output.WriteLine(body);
            }

            return 0;
        });
        return command;
    }

    /// <summary><c>btmc verify-payout &lt;file&gt; [--key &lt;jwk&gt;]</c>: checks a payout receipt offline.</summary>
    private static Command VerifyPayout()
    {
        var file = new Argument<string>("file") { Description = "The payout receipt, as fetched with payout --out." };
        var key = CliOptions.PinnedKey();
        var command = new Command("verify-payout", "Check a payout receipt offline.") { file, key };
        command.SetAction((parseResult, output, error) =>
        {
            var path = parseResult.GetRequiredValue(file);
            PayoutReceipt receipt;
            try
            {
                receipt = JsonSerializer.Deserialize<PayoutReceipt>(File.ReadAllText(path), PayoutReceipt.JsonOptions) ?? throw new JsonException("empty");
            }
            catch (Exception ex) when (ex is IOException or JsonException)
            {
                error.WriteLine($"btmc: cannot read {path}: {ex.Message}");
                return 1;
            }

            var pinned = parseResult.GetValue(key) is { } keyFile ? SigningKeys.ReadPublicKey(keyFile) : null;
            if (receipt.Verify(pinned) is { } failure)
            {
                error.WriteLine($"INVALID payout receipt: {failure}");
                return 1;
            }

            var payout = receipt.Payout;
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"VALID: {payout.Contributor} was paid {payout.Payout} in epoch {payout.Epoch} (PP {payout.Pp:G6}: m {payout.HashRate:G6} H/s × t {payout.OnlineHours:G4} h × e {payout.Persistence:0.0}), {receipt.ChainId} block {receipt.Height} signed by {receipt.ProducerKey.ComputeThumbprint()}"));
            return 0;
        });
        return command;
    }

    private static async Task SubmitAsync(HttpClient http, ISigningKey key, string contributor, string header, List<ulong> nonces, TimeProvider time, CancellationToken cancellationToken)
    {
        var unsigned = new ShareSubmission(contributor, time.GetUtcNow().ToUnixTimeSeconds(), Heartbeat: true, [new JobShares(header, nonces)], string.Empty);
        var signature = await key.SignDigestAsync(unsigned.Digest, cancellationToken);
        using var response = await http.PostAsJsonAsync("api/compute/shares", unsigned with { Signature = Convert.ToBase64String(signature) }, JsonSerializerOptions.Web, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"share submission refused: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(cancellationToken)}");
        }
    }
}

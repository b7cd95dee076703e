using System.CommandLine;
using System.Globalization;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Btmc.Chains;
using Btmc.Ledger;
using Btmc.Ledger.Transparency;
using Btmc.Platform.Azure.Keys;
using Btmc.Platform.Keys;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Pkcs;
using Org.BouncyCastle.Security;

namespace Btmc.Cli;

/// <summary>
/// <c>btmc witness</c> (docs/witnesses.md): watch a ledger's checkpoints and cosign each one that is consistent with
/// the last one this witness cosigned, keeping that last one per origin on disk so that no restart makes it cosign a
/// fork; on a fork, write the evidence and stop (exit <see cref="ForkExit"/>). Its subcommands make a key, print a
/// key's verifier key, and register, remove and list witnesses (an operator's, without a committee).
/// </summary>
public static class WitnessCommand
{
    /// <summary>The exit code when the ledger showed a checkpoint inconsistent with one this witness cosigned.</summary>
    public const int ForkExit = 3;

    /// <summary>The extension of a state file: the last cosigned note of one origin.</summary>
    public const string StateExtension = RollbackGuard.StateFileExtension;

    public static Command Create(KeyVaultAccess? keyVault, TimeProvider time)
    {
        var url = CliOptions.Url();
        url.Required = false;
        var key = CliOptions.SigningKey("witness");
        key.Required = false;
        key.Description = "The witness's key: an Ed25519 PEM (btmc witness keygen), an EC P-256 PEM, or a Key Vault P-256 key id https://<vault>.vault.azure.net/keys/<name>[/<version>].";
        var state = new Option<DirectoryInfo>("--state") { HelpName = "folder", Description = "Where the last cosigned checkpoint of each origin is kept (and fork evidence written)." };
        var name = NameOption();
        var once = CliOptions.Flag("--once", "One pass over the chains, then exit.");
        var interval = new Option<int>("--interval") { HelpName = "seconds", Description = "Seconds between passes.", DefaultValueFactory = _ => 60 }.AtLeast(1);
        var command = new Command("witness", "Cosign the ledger's checkpoints that are consistent with what this witness cosigned before; on a fork, write the evidence and exit 3.")
        {
            url, key, state, name, once, interval,
            KeyGen(), VerifierKey(keyVault), Add(), Remove(), List(),
        };
        command.SetAction(async (parseResult, output, error, cancellationToken) =>
        {
            var baseUrl = parseResult.GetValue(url) ?? throw new CliUsageException("btmc witness needs --url <base>.");
            var keyReference = parseResult.GetValue(key) ?? throw new CliUsageException("btmc witness needs --key <pem file | Key Vault key id>.");
            var folder = parseResult.GetValue(state) ?? throw new CliUsageException("btmc witness needs --state <folder>.");
            var witnessName = parseResult.GetValue(name) ?? throw new CliUsageException("btmc witness needs --name <name>.");
            var signer = await WitnessKey.OpenAsync(witnessName, keyReference, keyVault, cancellationToken);
            Directory.CreateDirectory(folder.FullName);
            using var http = BtmcCli.CreateClient(baseUrl);
            var witness = new Witness(http, signer, folder.FullName, time, output, error);
            output.WriteLine($"witness {signer.Cosigner.ToVerifierKey()} watching {baseUrl}");
            while (true)
            {
                var exit = await witness.PassAsync(cancellationToken);
                if (exit == ForkExit || parseResult.GetValue(once))
                {
                    return exit;
                }

                await Task.Delay(TimeSpan.FromSeconds(parseResult.GetValue(interval)), time, cancellationToken);
            }
        });
        return command;
    }

    /// <summary>The state file of an origin: every character outside [A-Za-z0-9._-] replaced by '_', then <see cref="StateExtension"/>.</summary>
    public static string StateFileName(string origin) =>
        new string(origin.Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' ? c : '_').ToArray()) + StateExtension;

    private static Option<string> NameOption() => new("--name")
    {
        HelpName = "name",
        Description = "The witness's name, as registered (a signed-note key name such as witness.example.com/w1).",
    };

    private static Command KeyGen()
    {
        var name = NameOption();
        name.Required = true;
        var file = new Option<FileInfo>("--out") { Required = true, HelpName = "file", Description = "The key file to create (Ed25519, PKCS#8 PEM, mode 0600); an existing file is never overwritten." };
        file.Validators.Add(result =>
        {
            if (result.Tokens is [var token] && File.Exists(token.Value))
            {
                result.AddError($"{token.Value} exists; keygen never overwrites a key.");
            }
        });
        var command = new Command("keygen", "Create a witness's Ed25519 key file; prints its verifier key (what the ledger registers).") { name, file };
        command.SetAction((parseResult, output, _) =>
        {
            var witnessName = CheckedName(parseResult.GetRequiredValue(name));
            var key = new Ed25519PrivateKeyParameters(new SecureRandom());
            var der = PrivateKeyInfoFactory.CreatePrivateKeyInfo(key).GetDerEncoded();
            OwnerOnlyFile.Write(parseResult.GetRequiredValue(file).FullName, PemEncoding.WriteString("PRIVATE KEY", der) + "\n");
            output.WriteLine(Cosigner.OfEd25519(witnessName, key).ToVerifierKey());
            return 0;
        });
        return command;
    }

    private static Command VerifierKey(KeyVaultAccess? keyVault)
    {
        var name = NameOption();
        name.Required = true;
        var key = CliOptions.SigningKey("witness");
        key.Description = "An Ed25519 PEM, an EC P-256 PEM, or a Key Vault P-256 key id.";
        var command = new Command("vkey", "Print the verifier key of a witness key (a key file, or a Key Vault key).") { name, key };
        command.SetAction(async (parseResult, output, _, cancellationToken) =>
        {
            var signer = await WitnessKey.OpenAsync(parseResult.GetRequiredValue(name), parseResult.GetRequiredValue(key), keyVault, cancellationToken);
            output.WriteLine(signer.Cosigner.ToVerifierKey());
            return 0;
        });
        return command;
    }

    private static Command Add()
    {
        var verifierKey = new Option<string>("--verifier-key") { Required = true, HelpName = "vkey", Description = "The witness's verifier key (btmc witness keygen or vkey prints it)." };
        return Registry(new Command("add", "Register a witness (an operator, on a ledger without a committee; with one, propose add-witness).") { verifierKey },
            _ => "api/witnesses", HttpMethod.Post, parseResult => new { verifierKey = parseResult.GetRequiredValue(verifierKey) });
    }

    private static Command Remove()
    {
        var name = new Argument<string>("name") { Description = "The witness's name." };
        return Registry(new Command("remove", "Remove a registered witness (an operator, on a ledger without a committee).") { name },
            parseResult => "api/witnesses/" + string.Join('/', parseResult.GetRequiredValue(name).Split('/').Select(Uri.EscapeDataString)), HttpMethod.Delete, null);
    }

    private static Command List()
    {
        var command = new Command("list", "List the registered witnesses and their verifier keys.");
        var url = CliOptions.Url();
        command.Add(url);
        command.SetAction(async (parseResult, output, error, cancellationToken) =>
        {
            using var http = BtmcCli.CreateClient(parseResult.GetRequiredValue(url));
            using var response = await http.GetAsync("api/witnesses", cancellationToken);
            return await OperatorRequests.ReportAsync(response, output, error, cancellationToken);
        });
        return command;
    }

    private static Command Registry(Command command, Func<ParseResult, string> path, HttpMethod method, Func<ParseResult, object>? body) =>
        OperatorRequests.Send(command, "witness", path, method, body);

    private static string CheckedName(string name) =>
        SignedNote.IsValidKeyName(name) ? name : throw new CliUsageException($"--name {name}: a witness name has no spaces or '+'.");

    /// <summary>A witness's identity and how it cosigns: Ed25519 in process, or ECDSA P-256 through a key that signs digests.</summary>
    private sealed class WitnessKey(Cosigner cosigner, Ed25519PrivateKeyParameters? ed25519, ISigningKey? ecdsa)
    {
        public Cosigner Cosigner => cosigner;

        public static async Task<WitnessKey> OpenAsync(string name, string reference, KeyVaultAccess? keyVault, CancellationToken cancellationToken)
        {
            name = CheckedName(name);
            if (File.Exists(reference) && ReadEd25519(reference) is { } ed25519)
            {
                return new WitnessKey(Cosigner.OfEd25519(name, ed25519), ed25519, null);
            }

            var key = await SigningKeys.OpenAsync(reference, keyVault, cancellationToken);
            if (key.PublicKey.Crv != EcPublicJwk.CurveP256)
            {
                throw new CliUsageException($"--key {reference}: a witness's EC key is on P-256, not {key.PublicKey.Crv}.");
            }

            return new WitnessKey(Cosigner.OfEcdsa(name, key.PublicKey with { Kid = null }), null, key);
        }

        public async Task<NoteSignature> SignAsync(string text, DateTimeOffset now, CancellationToken cancellationToken) =>
            ed25519 is not null
                ? cosigner.SignEd25519(ed25519, text, now)
                : await cosigner.SignEcdsaAsync(ecdsa!.SignDigestAsync, text, now, cancellationToken);

        /// <summary>The Ed25519 key of a PKCS#8 PEM file; null when the file holds another kind of key.</summary>
        private static Ed25519PrivateKeyParameters? ReadEd25519(string path)
        {
            var pem = File.ReadAllText(path);
            try
            {
                var fields = PemEncoding.Find(pem);
                if (pem[fields.Label] != "PRIVATE KEY")
                {
                    return null;
                }

                return PrivateKeyFactory.CreateKey(Convert.FromBase64String(pem[fields.Base64Data])) as Ed25519PrivateKeyParameters;
            }
            catch (Exception ex) when (ex is ArgumentException or FormatException or InvalidOperationException or IOException or Org.BouncyCastle.Security.SecurityUtilityException)
            {
                return null;
            }
        }
    }

    /// <summary>The evidence of a fork: what this witness cosigned, what the ledger shows now, the proof if any, and why they conflict.</summary>
    private sealed record ForkEvidence(string Origin, string Reason, string Cosigned, string Presented, IReadOnlyList<string>? ConsistencyProof, string Url, DateTimeOffset DetectedAt);

    /// <summary>One witness's passes over a ledger.</summary>
    private sealed class Witness(HttpClient http, WitnessKey key, string stateFolder, TimeProvider time, TextWriter output, TextWriter error)
    {
        private static readonly JsonSerializerOptions Indented = new(JsonSerializerDefaults.Web) { WriteIndented = true };

        /// <summary>One pass: 0 when every chain was cosigned or was cosigned already, 1 when one could not be, <see cref="ForkExit"/> on a fork.</summary>
        public async Task<int> PassAsync(CancellationToken cancellationToken)
        {
            JsonElement chains;
            try
            {
                chains = (await http.GetFromJsonAsync<JsonElement>("api/ledger/checkpoints", cancellationToken)).GetProperty("chains");
            }
            catch (Exception ex) when (ex is HttpRequestException or JsonException or KeyNotFoundException)
            {
                error.WriteLine($"btmc: cannot read the checkpoints: {ex.Message}");
                return 1;
            }

            var exit = 0;
            foreach (var chain in chains.EnumerateArray())
            {
                int result;
                try
                {
                    result = await ChainAsync(chain, cancellationToken);
                }
                catch (Exception ex) when (ex is HttpRequestException or JsonException or FormatException or KeyNotFoundException or InvalidOperationException
                    || (ex is TaskCanceledException && !cancellationToken.IsCancellationRequested))
                {
                    // The ledger out of reach or answering nonsense: nothing is cosigned for this chain; the next pass tries again.
                    error.WriteLine($"SKIPPED {(chain.TryGetProperty("chainId", out var id) ? id.GetString() : "?")}: {ex.Message}");
                    result = 1;
                }

                if (result == ForkExit)
                {
                    return ForkExit;
                }

                exit = Math.Max(exit, result);
            }

            return exit;
        }

        private async Task<int> ChainAsync(JsonElement chain, CancellationToken cancellationToken)
        {
            var chainId = chain.GetProperty("chainId").GetString()!;
            SignedNote note;
            Checkpoint checkpoint;
            EcPublicJwk producerKey;
            try
            {
                note = SignedNote.Parse(chain.GetProperty("checkpoint").GetString()!);
                checkpoint = Checkpoint.Parse(note.Text);
                producerKey = chain.GetProperty("producerKey").Deserialize<EcPublicJwk>() ?? throw new JsonException("no producer key");
            }
            catch (Exception ex) when (ex is FormatException or JsonException or KeyNotFoundException or InvalidOperationException)
            {
                error.WriteLine($"SKIPPED {chainId}: the checkpoint is malformed: {ex.Message}");
                return 1;
            }

            // The producer's signature makes the checkpoint the ledger's own statement: a fork shown with it is evidence
            // against the ledger, and a checkpoint without it is nobody's and is not cosigned.
            if (!EcdsaNoteKey.Verify(note, checkpoint.Origin, producerKey))
            {
                error.WriteLine($"SKIPPED {chainId}: the checkpoint's signature does not verify with producer key {producerKey.ComputeThumbprint()} as {checkpoint.Origin}");
                return 1;
            }

            var statePath = Path.Combine(stateFolder, StateFileName(checkpoint.Origin));
            if (File.Exists(statePath))
            {
                var previousText = await File.ReadAllTextAsync(statePath, cancellationToken);
                Checkpoint previous;
                try
                {
                    previous = Checkpoint.Parse(SignedNote.Parse(previousText).Text);
                }
                catch (FormatException ex)
                {
                    // Never cosign past a state this witness cannot read: it might be the one that refuses a fork.
                    error.WriteLine($"SKIPPED {chainId}: {statePath} is damaged ({ex.Message}); restore it, nothing is cosigned for {checkpoint.Origin} until then");
                    return 1;
                }

                if (previous.Origin != checkpoint.Origin)
                {
                    error.WriteLine($"SKIPPED {chainId}: {statePath} holds a checkpoint of {previous.Origin}, not {checkpoint.Origin}");
                    return 1;
                }

                if (SignedNote.Parse(previousText).Text == note.Text)
                {
                    // Cosigned already (perhaps the post failed): post it again; the ledger records it once.
                    return await PostAsync(chainId, previousText, checkpoint, cancellationToken);
                }

                string? fork = null;
                IReadOnlyList<string>? proof = null;
                if (checkpoint.Size < previous.Size)
                {
                    fork = $"the ledger shows size {checkpoint.Size}, smaller than size {previous.Size}, which this witness cosigned: a rollback";
                }
                else if (checkpoint.Size == previous.Size)
                {
                    fork = $"the ledger shows another checkpoint of size {checkpoint.Size} than the one this witness cosigned (root {checkpoint.RootHash.ToBase64()}, cosigned {previous.RootHash.ToBase64()})";
                }
                else
                {
                    var answer = await http.GetAsync($"api/ledger/chains/{Uri.EscapeDataString(chainId)}/consistency?from={previous.Size}&to={checkpoint.Size}", cancellationToken);
                    var body = await answer.Content.ReadAsStringAsync(cancellationToken);
                    if (!answer.IsSuccessStatusCode)
                    {
                        // Not evidence by itself (the proof may be too long to serve in one piece): do not cosign, and say why.
                        error.WriteLine($"SKIPPED {chainId}: no consistency proof from {previous.Size} to {checkpoint.Size}: {(int)answer.StatusCode} {body}");
                        return 1;
                    }

                    proof = JsonDocument.Parse(body).RootElement.GetProperty("proof").EnumerateArray().Select(p => p.GetString()!).ToList();
                    var hashes = proof.Select(Hash32.FromHex).ToArray();
                    if (!MerkleTree.TryVerifyConsistency(previous.Size, checkpoint.Size, hashes, previous.RootHash, checkpoint.RootHash))
                    {
                        fork = $"the ledger's consistency proof from size {previous.Size} to {checkpoint.Size} does not verify: the tree this witness cosigned is not a prefix of the one shown now";
                    }
                }

                if (fork is not null)
                {
                    var evidence = new ForkEvidence(checkpoint.Origin, fork, previousText, note.Format(), proof, http.BaseAddress!.AbsoluteUri, time.GetUtcNow());
                    var json = JsonSerializer.Serialize(evidence, Indented);
                    var evidencePath = Path.Combine(stateFolder, $"{Path.GetFileNameWithoutExtension(StateFileName(checkpoint.Origin))}.fork-{time.GetUtcNow().ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture)}.json");
                    OwnerOnlyFile.Write(evidencePath, json + "\n");
                    error.WriteLine($"FORK    {chainId}: {fork}; nothing cosigned; evidence in {evidencePath}");
                    output.WriteLine(json);
                    return ForkExit;
                }
            }

            var line = await key.SignAsync(note.Text, time.GetUtcNow(), cancellationToken);
            var cosigned = new SignedNote(note.Text, [.. note.Signatures, line]).Format();

            // Saved before it is posted: once the ledger may hold this cosignature, no restart may cosign a fork of it.
            OwnerOnlyFile.Write(statePath, cosigned);
            return await PostAsync(chainId, cosigned, checkpoint, cancellationToken);
        }

        private async Task<int> PostAsync(string chainId, string cosigned, Checkpoint checkpoint, CancellationToken cancellationToken)
        {
            using var content = new StringContent(cosigned, Encoding.UTF8, "text/plain");
            using var response = await http.PostAsync($"api/ledger/checkpoints/{Uri.EscapeDataString(chainId)}/cosignatures", content, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                error.WriteLine($"REFUSED {chainId}: the ledger refused the cosignature of size {checkpoint.Size}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(cancellationToken)}");
                return 1;
            }

            output.WriteLine($"COSIGNED {chainId}: size {checkpoint.Size}, root {checkpoint.RootHash.ToBase64()}");
            return 0;
        }
    }
}

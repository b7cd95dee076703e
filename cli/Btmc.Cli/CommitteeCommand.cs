using System.CommandLine;
using System.Net.Http.Json;
using System.Text.Json;
using Btmc.Governance;
using Btmc.Ledger;
using Btmc.Platform.Azure.Keys;
using Btmc.Platform.Keys;

namespace Btmc.Cli;

/// <summary>
/// <c>btmc committee</c> and <c>btmc vote</c>: a committee member or token holder signs on their own machine (or with
/// their own Key Vault key) and submits only the signature. Before signing, the tool re-derives the digest from the
/// payload text it shows, checks it against the proposal id and the ledger's domain, so the member signs exactly what
/// they read.
/// </summary>
internal static class CommitteeCommand
{
    public static IEnumerable<Command> Create(KeyVaultAccess? keyVault, TimeProvider time) =>
    [
        new Command("committee", "Committee members' keys, proposals and signatures.") { KeyGen(), List(), Show(), Propose(keyVault, time), Sign(keyVault) },
        Vote(keyVault),
    ];

    /// <summary><c>btmc vote --producers a,b --key &lt;key&gt; --url &lt;base&gt; [--sequence N]</c>.</summary>
    private static Command Vote(KeyVaultAccess? keyVault)
    {
        var producers = new Option<string>("--producers")
        {
            Required = true,
            HelpName = "a,b|none",
            Description = "The block producers voted for, comma-separated, or none.",
        };
        var key = CliOptions.SigningKey("token holder");
        var url = CliOptions.Url();
        var sequence = new Option<long?>("--sequence") { HelpName = "n", Description = "The vote's sequence number (default: one past the account's last vote)." };
        var command = new Command("vote", "A token holder's signed vote for block producers.") { producers, key, url, sequence };
        ApiKeyOptions.AddOptional(command);
        command.SetAction(async (parseResult, output, error, cancellationToken) =>
        {
            using var http = BtmcCli.CreateClient(parseResult.GetRequiredValue(url), parseResult);
            var signer = await SigningKeys.OpenAsync(parseResult.GetRequiredValue(key), keyVault, cancellationToken);
            var domain = (await GetJsonAsync(http, "api/governance", cancellationToken)).GetProperty("domain").GetString()!;
            long next;
            if (parseResult.GetValue(sequence) is { } given)
            {
                next = given;
            }
            else
            {
                var account = await GetJsonAsync(http, $"api/governance/accounts/{signer.KeyId}", cancellationToken);
                next = account.GetProperty("vote") is { ValueKind: JsonValueKind.Object } vote ? vote.GetProperty("sequence").GetInt64() + 1 : 1;
            }

            var list = parseResult.GetRequiredValue(producers);
            var chosen = list is "none" ? [] : list.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal).ToList();
            var payload = new VotePayload(domain, signer.KeyId, next, chosen);
            output.Write(payload.Text);
            var signature = await signer.SignDigestAsync(payload.Digest, cancellationToken);
            using var response = await http.PostAsJsonAsync("api/governance/votes", new
            {
                payload = payload.Text,
                publicKey = signer.PublicKey with { Kid = null },
                signature = Convert.ToBase64String(signature),
            }, cancellationToken);
            return await ReportAsync(response, output, error, cancellationToken);
        });
        return command;
    }

    private static Command KeyGen()
    {
        var file = new Option<FileInfo>("--out") { Required = true, HelpName = "file", Description = "The key file to create (PEM); an existing file is never overwritten." };
        file.Validators.Add(result =>
        {
            if (result.Tokens is [var token] && File.Exists(token.Value))
            {
                result.AddError($"{token.Value} exists; keygen never overwrites a key.");
            }
        });
        var curve = new Option<string>("--curve") { Description = "The key's curve.", DefaultValueFactory = _ => "p256" }.AcceptOnlyFromAmong("p256", "secp256k1");
        var member = new Option<string>("--member") { HelpName = "id", Description = "The member id of the printed entry (default: the file's name without extension)." };
        var command = new Command("keygen", "Create a member's (or token holder's) key file; prints its committee entry.") { file, curve, member };
        command.SetAction((parseResult, output, _) =>
        {
            var path = parseResult.GetRequiredValue(file);
            using var key = LocalKeyFileSigner.OpenOrCreate(path.FullName, parseResult.GetValue(curve) is "secp256k1" ? SignatureAlgorithm.ES256K : SignatureAlgorithm.ES256);
            var id = parseResult.GetValue(member) ?? Path.GetFileNameWithoutExtension(path.Name);
            output.WriteLine(JsonSerializer.Serialize(new MemberKey(id, key.PublicKey with { Kid = null }), JsonSerializerOptions.Web));
            return 0;
        });
        return command;
    }

    private static Command List()
    {
        var url = CliOptions.Url();
        var command = new Command("list", "List the proposals.") { url };
        ApiKeyOptions.AddOptional(command);
        command.SetAction(async (parseResult, output, _, cancellationToken) =>
        {
            using var http = BtmcCli.CreateClient(parseResult.GetRequiredValue(url), parseResult);
            var list = await GetJsonAsync(http, "api/governance/proposals", cancellationToken);
            foreach (var proposal in list.GetProperty("proposals").EnumerateArray())
            {
                output.WriteLine($"{proposal.GetProperty("id").GetString()}  {proposal.GetProperty("status").GetString(),-8}  {proposal.GetProperty("action").GetString(),-16}  approvals {proposal.GetProperty("approvals").GetArrayLength()}/{proposal.GetProperty("threshold").GetInt32()}  expires {proposal.GetProperty("expires").GetDateTimeOffset():u}");
            }

            return 0;
        });
        return command;
    }

    /// <summary>Prints the payload exactly as it is signed, then (after a blank line, each line starting with '#') what the ledger says of it.</summary>
    private static Command Show()
    {
        var id = ProposalId();
        var url = CliOptions.Url();
        var command = new Command("show", "Print exactly what members sign for a proposal, then its status.") { id, url };
        ApiKeyOptions.AddOptional(command);
        command.SetAction(async (parseResult, output, error, cancellationToken) =>
        {
            using var http = BtmcCli.CreateClient(parseResult.GetRequiredValue(url), parseResult);
            var (payload, proposal) = await FetchCheckedAsync(http, parseResult.GetRequiredValue(id), cancellationToken);
            if (payload is null)
            {
                error.WriteLine($"btmc: {proposal.GetProperty("detail").GetString()}");
                return 1;
            }

            output.Write(payload.Text);
            output.WriteLine();
            WriteStatus(output, payload, proposal);
            return 0;
        });
        return command;
    }

    private static Command Propose(KeyVaultAccess? keyVault, TimeProvider time)
    {
        Option<string> Text(string name, string helpName, string description) => new(name) { Required = true, HelpName = helpName, Description = description };
        Option<long> Amount(string name, string description) => new Option<long>(name) { Required = true, HelpName = "n", Description = description }.AtLeast(0L);
        Option<string> PublicKey(string whose) => Text("--public-key", "file", $"The {whose} public key: a JWK file, or a PEM file of an EC key (only its public half is read).");

        var addProducer = Text("--producer", "id", "The producer's id.");
        var producerKey = Text("--producer-key", "ref", "The producer's key reference in its own configuration (a Key Vault key id or a key file name).");
        var producerPublicKey = PublicKey("producer's");
        var removeProducer = Text("--producer", "id", "The producer's id.");
        var oldMember = Text("--old-member", "id", "The member leaving the committee.");
        var newMember = Text("--new-member", "id", "The member joining in their place.");
        var memberPublicKey = PublicKey("new member's");
        var account = Text("--account", "thumbprint", "The token holder's account: their key's JWK thumbprint.");
        var amount = Amount("--amount", "The tokens allocated.");
        var parameter = Text("--parameter", "name", "The governance parameter.");
        var value = Amount("--value", "Its new value.");
        var addPartner = new PartnerOptions();
        var updatePartner = new PartnerOptions();
        var keyOverlap = new Option<long>("--key-overlap") { HelpName = "seconds", Description = "How long keys the record no longer lists keep working.", DefaultValueFactory = _ => 86400 }.AtLeast(0L);
        var suspendPartner = Text("--partner", "id", "The partner.");
        var reinstate = CliOptions.Flag("--reinstate", "Lift the suspension instead.");
        var declaredEvent = Text("--event", "hash id", "The event's CBV 2.0 hash ID (ni:///sha-256;…?ver=CBV2.0).");
        var witnessKey = Text("--witness-key", "vkey", "The witness's verifier key (btmc witness keygen or vkey prints it); its name is the witness's.");
        var removedWitness = Text("--witness", "name", "The witness's name.");
        return new Command("propose", "Propose a committee action, signed with the member's key; prints the payload as signed, then the proposal's status and id.")
        {
            ProposeAction(AddProducer.ActionName, "Add a block producer.", keyVault, time, [addProducer, producerKey, producerPublicKey], parseResult =>
                new AddProducer(parseResult.GetRequiredValue(addProducer), parseResult.GetRequiredValue(producerKey), SigningKeys.ReadPublicKey(parseResult.GetRequiredValue(producerPublicKey)))),
            ProposeAction(RemoveProducer.ActionName, "Remove a block producer.", keyVault, time, [removeProducer], parseResult =>
                new RemoveProducer(parseResult.GetRequiredValue(removeProducer))),
            ProposeAction(ReplaceMember.ActionName, "Replace a committee member.", keyVault, time, [oldMember, newMember, memberPublicKey], parseResult =>
                new ReplaceMember(parseResult.GetRequiredValue(oldMember), parseResult.GetRequiredValue(newMember), SigningKeys.ReadPublicKey(parseResult.GetRequiredValue(memberPublicKey)))),
            ProposeAction(AllocateTokens.ActionName, "Allocate tokens to a holder's account.", keyVault, time, [account, amount], parseResult =>
                new AllocateTokens(parseResult.GetRequiredValue(account), parseResult.GetValue(amount))),
            ProposeAction(SetParameter.ActionName, "Set a governance parameter.", keyVault, time, [parameter, value], parseResult =>
                new SetParameter(parseResult.GetRequiredValue(parameter), parseResult.GetValue(value))),
            ProposeAction(AddPartner.ActionName, "Register a partner (docs/partners.md).", keyVault, time, addPartner.Options, parseResult =>
                new AddPartner(addPartner.Spec(parseResult))),
            ProposeAction(UpdatePartner.ActionName, "Replace a partner's record; keys it no longer lists work --key-overlap seconds more.", keyVault, time, [.. updatePartner.Options, keyOverlap], parseResult =>
                new UpdatePartner(updatePartner.Spec(parseResult), parseResult.GetValue(keyOverlap))),
            ProposeAction(SuspendPartner.ActionName, "Suspend a partner (or, with --reinstate, lift its suspension).", keyVault, time, [suspendPartner, reinstate], parseResult =>
                new SuspendPartner(parseResult.GetRequiredValue(suspendPartner), !parseResult.GetValue(reinstate))),
            ProposeAction(DeclareError.ActionName, "Let any partner declare a recorded event erroneous (otherwise only the partner that captured it may).", keyVault, time, [declaredEvent], parseResult =>
                new DeclareError(parseResult.GetRequiredValue(declaredEvent))),
            ProposeAction(AddWitness.ActionName, "Register a witness whose cosignatures the ledger collects and puts into receipts (docs/witnesses.md).", keyVault, time, [witnessKey], parseResult =>
                WitnessAction(() => AddWitness.FromVerifierKey(parseResult.GetRequiredValue(witnessKey)))),
            ProposeAction(RemoveWitness.ActionName, "Remove a registered witness.", keyVault, time, [removedWitness], parseResult =>
                new RemoveWitness(parseResult.GetRequiredValue(removedWitness))),
        };
    }

    private static ProposalAction WitnessAction(Func<ProposalAction> action)
    {
        try
        {
            return action();
        }
        catch (Refused ex)
        {
            throw new CliUsageException($"--witness-key: {ex.Message}");
        }
    }

    /// <summary><c>btmc committee propose &lt;action&gt;</c>: the action's own options, and the member's key, the backend, the expiry.</summary>
    private static Command ProposeAction(string name, string description, KeyVaultAccess? keyVault, TimeProvider time, Option[] actionOptions, Func<ParseResult, ProposalAction> actionOf)
    {
        var key = CliOptions.SigningKey("member");
        var url = CliOptions.Url();
        var expiresIn = new Option<double>("--expires-in") { HelpName = "hours", Description = "How long members have to sign.", DefaultValueFactory = _ => 72 };
        var claimed = MemberOption();
        var command = new Command(name, description) { key, url, expiresIn, claimed };
        ApiKeyOptions.AddOptional(command);
        foreach (var option in actionOptions)
        {
            command.Add(option);
        }

        command.SetAction(async (parseResult, output, error, cancellationToken) =>
        {
            using var http = BtmcCli.CreateClient(parseResult.GetRequiredValue(url), parseResult);
            var signer = await SigningKeys.OpenAsync(parseResult.GetRequiredValue(key), keyVault, cancellationToken);
            var governance = await GetJsonAsync(http, "api/governance", cancellationToken);
            var member = MemberOf(governance, signer, parseResult.GetValue(claimed));
            var payload = ProposalPayload.Create(governance.GetProperty("domain").GetString()!, time.GetUtcNow().AddHours(parseResult.GetValue(expiresIn)), actionOf(parseResult));
            try
            {
                _ = ProposalPayload.Parse(payload.Text);
            }
            catch (Refused ex)
            {
                throw new CliUsageException($"--{ex.Field}: {ex.Message}");
            }

            output.Write(payload.Text);
            var signature = await signer.SignDigestAsync(payload.Digest, cancellationToken);
            using var response = await http.PostAsJsonAsync("api/governance/proposals", new { payload = payload.Text, member, signature = Convert.ToBase64String(signature) }, cancellationToken);
            return await ReportAsync(response, output, error, cancellationToken);
        });
        return command;
    }

    private static Command Sign(KeyVaultAccess? keyVault)
    {
        var id = ProposalId();
        var key = CliOptions.SigningKey("member");
        var url = CliOptions.Url();
        var claimed = MemberOption();
        var command = new Command("sign", "Sign a proposal with the member's own key; only the signature is sent.") { id, key, url, claimed };
        ApiKeyOptions.AddOptional(command);
        command.SetAction(async (parseResult, output, error, cancellationToken) =>
        {
            using var http = BtmcCli.CreateClient(parseResult.GetRequiredValue(url), parseResult);
            var signer = await SigningKeys.OpenAsync(parseResult.GetRequiredValue(key), keyVault, cancellationToken);
            var proposalId = parseResult.GetRequiredValue(id);
            var (payload, proposal) = await FetchCheckedAsync(http, proposalId, cancellationToken);
            if (payload is null)
            {
                error.WriteLine($"btmc: {proposal.GetProperty("detail").GetString()}");
                return 1;
            }

            var governance = await GetJsonAsync(http, "api/governance", cancellationToken);
            if (governance.GetProperty("domain").GetString() != payload.Domain)
            {
                error.WriteLine($"btmc: the proposal is for domain '{payload.Domain}', but this ledger is '{governance.GetProperty("domain").GetString()}'; not signing.");
                return 1;
            }

            var member = MemberOf(governance, signer, parseResult.GetValue(claimed));
            output.Write(payload.Text);
            var signature = await signer.SignDigestAsync(payload.Digest, cancellationToken);
            using var response = await http.PostAsJsonAsync($"api/governance/proposals/{proposalId}/approvals", new { member, signature = Convert.ToBase64String(signature) }, cancellationToken);
            return await ReportAsync(response, output, error, cancellationToken);
        });
        return command;
    }

    /// <summary>The <c>&lt;id&gt;</c> of a proposal: 64 lower-case hex digits (the payload's SHA-256).</summary>
    private static Argument<string> ProposalId()
    {
        var id = new Argument<string>("id") { Description = "The proposal's id: 64 lower-case hex digits, the SHA-256 of its payload." };
        id.Validators.Add(result =>
        {
            if (result.Tokens is [var token] && (token.Value.Length != 64 || !token.Value.All(c => char.IsAsciiDigit(c) || c is >= 'a' and <= 'f')))
            {
                result.AddError($"'{token.Value}' is not a proposal id (64 lower-case hex digits).");
            }
        });
        return id;
    }

    private static Option<string> MemberOption() => new("--member") { HelpName = "id", Description = "Check that the key is this member's." };

    /// <summary>The proposal, with its payload re-parsed locally and its digest checked against the id; a null payload when the ledger refused.</summary>
    private static async Task<(ProposalPayload? Payload, JsonElement Proposal)> FetchCheckedAsync(HttpClient http, string id, CancellationToken cancellationToken)
    {
        using var response = await http.GetAsync($"api/governance/proposals/{id}", cancellationToken);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken)).RootElement.Clone();
        if (!response.IsSuccessStatusCode)
        {
            return (null, body);
        }

        var payload = ProposalPayload.Parse(body.GetProperty("payload").GetString()!);
        if (payload.Id != id)
        {
            throw new HttpRequestException($"The backend answered a payload whose digest is {payload.Id}, not {id}; not trusting it.");
        }

        return (payload, body);
    }

    private static void WriteStatus(TextWriter output, ProposalPayload payload, JsonElement proposal)
    {
        output.WriteLine($"# digest (SHA-256 of the text above, what members sign): {payload.Id}");
        output.WriteLine($"# status: {proposal.GetProperty("status").GetString()}; approvals {proposal.GetProperty("approvals").GetArrayLength()} of {proposal.GetProperty("threshold").GetInt32()} needed: {string.Join(", ", proposal.GetProperty("approvals").EnumerateArray().Select(a => a.GetString()))}");
        if (proposal.TryGetProperty("executedAt", out var executed) && executed.ValueKind == JsonValueKind.String)
        {
            output.WriteLine($"# executed at {executed.GetString()}");
        }

        if (proposal.TryGetProperty("blocked", out var blocked) && blocked.ValueKind == JsonValueKind.String)
        {
            output.WriteLine($"# cannot execute: {blocked.GetString()}");
        }
    }

    private static async Task<int> ReportAsync(HttpResponseMessage response, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken)).RootElement;
        if (!response.IsSuccessStatusCode)
        {
            var field = body.TryGetProperty("field", out var f) ? $" ({f.GetString()})" : string.Empty;
            error.WriteLine($"btmc: {(int)response.StatusCode} {body.GetProperty("title").GetString()}{field}: {body.GetProperty("detail").GetString()}");
            return 1;
        }

        output.WriteLine();
        if (body.TryGetProperty("payload", out var text))
        {
            WriteStatus(output, ProposalPayload.Parse(text.GetString()!), body);
            output.WriteLine($"# id: {body.GetProperty("id").GetString()}");
        }
        else
        {
            output.WriteLine($"# vote recorded: sequence {body.GetProperty("sequence").GetInt64()}, weight {body.GetProperty("weight").GetInt64()}");
        }

        return 0;
    }

    /// <summary>The committee member whose registered key is <paramref name="key"/> (and who is <paramref name="claimed"/>, if given).</summary>
    private static string MemberOf(JsonElement governance, ISigningKey key, string? claimed)
    {
        var member = governance.GetProperty("committee").EnumerateArray().FirstOrDefault(m => m.GetProperty("keyId").GetString() == key.KeyId);
        if (member.ValueKind != JsonValueKind.Object)
        {
            throw new CliUsageException($"key {key.KeyId} ({key.Reference}) is no committee member's key.");
        }

        var id = member.GetProperty("member").GetString()!;
        return claimed is null || claimed == id ? id : throw new CliUsageException($"key {key.KeyId} is member '{id}''s, not '{claimed}''s.");
    }

    private static async Task<JsonElement> GetJsonAsync(HttpClient http, string path, CancellationToken cancellationToken)
    {
        using var response = await http.GetAsync(path, cancellationToken);
        response.EnsureSuccessStatusCode();
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken)).RootElement.Clone();
    }

    /// <summary>The options of an add-partner or update-partner proposal: the partner's whole record.</summary>
    private sealed class PartnerOptions
    {
        private readonly Option<string> _id = new("--partner") { Required = true, HelpName = "id", Description = "The partner's id." };
        private readonly Option<string> _name = new("--name") { HelpName = "text", Description = "The display name (default: the id)." };
        private readonly Option<string[]> _roles = new Option<string[]>("--role") { HelpName = "role", Description = "partner, auditor or operator (repeat; default partner)." }
            .AcceptOnlyFromAmong("partner", "auditor", "operator");
        private readonly Option<string[]> _prefixes = new("--prefix") { HelpName = "gs1 prefix", Description = "A GS1 company prefix it owns (repeat), or *." };
        private readonly Option<string[]> _granted = new("--granted-prefix") { HelpName = "gs1 prefix", Description = "A prefix it may commission under on its owner's behalf (repeat)." };
        private readonly Option<string[]> _keys = new("--api-key-sha256") { HelpName = "hex", Description = "The SHA-256 of an API key the partner made (repeat): printf %s \"$KEY\" | sha256sum." };
        private readonly Option<string[]> _principals = new("--principal-id") { HelpName = "object id", Description = "An Entra ID object id it signs in as (repeat)." };
        private readonly Option<string> _signingKey = new("--signing-key") { HelpName = "file", Description = "Its capture signing key: a P-256 public JWK, or a PEM (only the public half is read)." };
        private readonly Option<bool> _require = CliOptions.Flag("--require-signature", "Refuse its unsigned captures.");

        public Option[] Options => [_id, _name, _roles, _prefixes, _granted, _keys, _principals, _signingKey, _require];

        public PartnerSpec Spec(ParseResult parseResult)
        {
            var id = parseResult.GetRequiredValue(_id);
            var roles = PartnerRoles.None;
            foreach (var role in parseResult.GetValue(_roles) is { Length: > 0 } given ? given : ["partner"])
            {
                roles |= Caller.ParseRole(role)!.Value;
            }

            return new PartnerSpec(
                id,
                parseResult.GetValue(_name) ?? id,
                roles,
                parseResult.GetValue(_prefixes) ?? [],
                parseResult.GetValue(_granted) ?? [],
                parseResult.GetValue(_keys)?.Select(k => k.ToLowerInvariant()).ToArray() ?? [],
                parseResult.GetValue(_principals) ?? [],
                parseResult.GetValue(_signingKey) is { } file ? SigningKeys.ReadPublicKey(file) : null,
                parseResult.GetValue(_require));
        }
    }
}

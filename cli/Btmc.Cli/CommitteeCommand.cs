using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Azure.Core;
using Btmc.Governance;
using Btmc.Ledger;
using Btmc.Platform.Keys;

namespace Btmc.Cli;

/// <summary>
/// <c>btmc committee</c> and <c>btmc vote</c>: a committee member or token holder signs on their own machine (or with
/// their own Key Vault key) and submits only the signature. Before signing, the tool re-derives the digest from the
/// payload text it shows, checks it against the proposal id and the ledger's domain, so the member signs exactly what
/// they read.
/// </summary>
public static class CommitteeCommand
{
    public static async Task<int> RunAsync(CliArguments args, TextWriter output, TextWriter error, TokenCredential? credential, CancellationToken cancellationToken) =>
        args.RequirePositional(0, "committee subcommand (keygen, list, show, propose, sign)") switch
        {
            "keygen" => KeyGen(args, output),
            "list" => await ListAsync(args, output, cancellationToken),
            "show" => await ShowAsync(args, output, error, cancellationToken),
            "propose" => await ProposeAsync(args, output, error, credential, cancellationToken),
            "sign" => await SignAsync(args, output, error, credential, cancellationToken),
            var other => throw new CliUsageException($"unknown committee subcommand '{other}'."),
        };

    /// <summary><c>btmc vote --producers a,b --key &lt;key&gt; --url &lt;base&gt; [--sequence N]</c>.</summary>
    public static async Task<int> VoteAsync(CliArguments args, TextWriter output, TextWriter error, TokenCredential? credential, CancellationToken cancellationToken)
    {
        using var http = BtmcCli.CreateClient(args.Require("url"));
        var key = await SigningKeys.OpenAsync(args.Require("key"), credential, cancellationToken);
        var domain = (await GetJsonAsync(http, "api/governance", cancellationToken)).GetProperty("domain").GetString()!;
        long sequence;
        if (args.Option("sequence") is { } given)
        {
            sequence = long.Parse(given, NumberStyles.None, CultureInfo.InvariantCulture);
        }
        else
        {
            var account = await GetJsonAsync(http, $"api/governance/accounts/{key.KeyId}", cancellationToken);
            sequence = account.GetProperty("vote") is { ValueKind: JsonValueKind.Object } vote ? vote.GetProperty("sequence").GetInt64() + 1 : 1;
        }

        var producers = args.Require("producers") is "none" ? [] : args.Require("producers").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal).ToList();
        var payload = new VotePayload(domain, key.KeyId, sequence, producers);
        output.Write(payload.Text);
        var signature = await key.SignDigestAsync(payload.Digest, cancellationToken);
        using var response = await http.PostAsJsonAsync("api/governance/votes", new
        {
            payload = payload.Text,
            publicKey = key.PublicKey with { Kid = null },
            signature = Convert.ToBase64String(signature),
        }, cancellationToken);
        return await ReportAsync(response, output, error, cancellationToken);
    }

    private static int KeyGen(CliArguments args, TextWriter output)
    {
        var path = args.Require("out");
        if (File.Exists(path))
        {
            throw new CliUsageException($"{path} exists; keygen never overwrites a key.");
        }

        var curve = args.Option("curve") switch
        {
            null or "p256" or "P-256" => SignatureAlgorithm.ES256,
            "secp256k1" => SignatureAlgorithm.ES256K,
            var other => throw new CliUsageException($"--curve {other}: use p256 or secp256k1."),
        };
        using var key = LocalKeyFileSigner.OpenOrCreate(path, curve);
        var member = args.Option("member") ?? Path.GetFileNameWithoutExtension(path);
        output.WriteLine(JsonSerializer.Serialize(new MemberKey(member, key.PublicKey with { Kid = null }), JsonSerializerOptions.Web));
        return 0;
    }

    private static async Task<int> ListAsync(CliArguments args, TextWriter output, CancellationToken cancellationToken)
    {
        using var http = BtmcCli.CreateClient(args.Require("url"));
        var list = await GetJsonAsync(http, "api/governance/proposals", cancellationToken);
        foreach (var proposal in list.GetProperty("proposals").EnumerateArray())
        {
            output.WriteLine($"{proposal.GetProperty("id").GetString()}  {proposal.GetProperty("status").GetString(),-8}  {proposal.GetProperty("action").GetString(),-16}  approvals {proposal.GetProperty("approvals").GetArrayLength()}/{proposal.GetProperty("threshold").GetInt32()}  expires {proposal.GetProperty("expires").GetDateTimeOffset():u}");
        }

        return 0;
    }

    /// <summary>Prints the payload exactly as it is signed, then (after a blank line, each line starting with '#') what the ledger says of it.</summary>
    private static async Task<int> ShowAsync(CliArguments args, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        var id = args.RequirePositional(1, "<proposal id>");
        using var http = BtmcCli.CreateClient(args.Require("url"));
        var (payload, proposal) = await FetchCheckedAsync(http, id, cancellationToken);
        if (payload is null)
        {
            error.WriteLine($"btmc: {proposal.GetProperty("detail").GetString()}");
            return 1;
        }

        output.Write(payload.Text);
        output.WriteLine();
        WriteStatus(output, payload, proposal);
        return 0;
    }

    private static async Task<int> ProposeAsync(CliArguments args, TextWriter output, TextWriter error, TokenCredential? credential, CancellationToken cancellationToken)
    {
        using var http = BtmcCli.CreateClient(args.Require("url"));
        var key = await SigningKeys.OpenAsync(args.Require("key"), credential, cancellationToken);
        var governance = await GetJsonAsync(http, "api/governance", cancellationToken);
        var member = MemberOf(governance, key, args.Option("member"));
        var hours = args.Option("expires-in") is { } text ? double.Parse(text, CultureInfo.InvariantCulture) : 72;
        var payload = ProposalPayload.Create(governance.GetProperty("domain").GetString()!, DateTimeOffset.UtcNow.AddHours(hours), ActionOf(args));
        try
        {
            _ = ProposalPayload.Parse(payload.Text);
        }
        catch (Refused ex)
        {
            throw new CliUsageException($"--{ex.Field}: {ex.Message}");
        }

        output.Write(payload.Text);
        var signature = await key.SignDigestAsync(payload.Digest, cancellationToken);
        using var response = await http.PostAsJsonAsync("api/governance/proposals", new { payload = payload.Text, member, signature = Convert.ToBase64String(signature) }, cancellationToken);
        return await ReportAsync(response, output, error, cancellationToken);
    }

    private static async Task<int> SignAsync(CliArguments args, TextWriter output, TextWriter error, TokenCredential? credential, CancellationToken cancellationToken)
    {
        var id = args.RequirePositional(1, "<proposal id>");
        using var http = BtmcCli.CreateClient(args.Require("url"));
        var key = await SigningKeys.OpenAsync(args.Require("key"), credential, cancellationToken);
        var (payload, proposal) = await FetchCheckedAsync(http, id, cancellationToken);
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

        var member = MemberOf(governance, key, args.Option("member"));
        output.Write(payload.Text);
        var signature = await key.SignDigestAsync(payload.Digest, cancellationToken);
        using var response = await http.PostAsJsonAsync($"api/governance/proposals/{id}/approvals", new { member, signature = Convert.ToBase64String(signature) }, cancellationToken);
        return await ReportAsync(response, output, error, cancellationToken);
    }

    /// <summary>The proposal, with its payload re-parsed locally and its digest checked against the id; a null payload when the ledger refused.</summary>
    private static async Task<(ProposalPayload? Payload, JsonElement Proposal)> FetchCheckedAsync(HttpClient http, string id, CancellationToken cancellationToken)
    {
        if (id.Length != 64 || !id.All(c => char.IsAsciiDigit(c) || c is >= 'a' and <= 'f'))
        {
            throw new CliUsageException($"'{id}' is not a proposal id (64 lower-case hex digits).");
        }

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

    private static ProposalAction ActionOf(CliArguments args) => args.RequirePositional(1, "proposal action") switch
    {
        AddProducer.ActionName => new AddProducer(args.Require("producer"), args.Require("producer-key"), SigningKeys.ReadPublicKey(args.Require("public-key"))),
        RemoveProducer.ActionName => new RemoveProducer(args.Require("producer")),
        ReplaceMember.ActionName => new ReplaceMember(args.Require("old-member"), args.Require("new-member"), SigningKeys.ReadPublicKey(args.Require("public-key"))),
        AllocateTokens.ActionName => new AllocateTokens(args.Require("account"), long.Parse(args.Require("amount"), NumberStyles.None, CultureInfo.InvariantCulture)),
        SetParameter.ActionName => new SetParameter(args.Require("parameter"), long.Parse(args.Require("value"), NumberStyles.None, CultureInfo.InvariantCulture)),
        var other => throw new CliUsageException($"unknown action '{other}'; use add-producer, remove-producer, replace-member, allocate-tokens or set-parameter."),
    };

    private static async Task<JsonElement> GetJsonAsync(HttpClient http, string path, CancellationToken cancellationToken)
    {
        using var response = await http.GetAsync(path, cancellationToken);
        response.EnsureSuccessStatusCode();
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken)).RootElement.Clone();
    }
}

using System.CommandLine;

namespace Btmc.Cli;

/// <summary>
/// <c>btmc partner</c>: the partner registry (docs/partners.md). <c>add</c>, <c>rotate-key</c> and <c>suspend</c> are an
/// operator's (its key in <c>.data/keys/operator.key</c> on the embedded default); <c>list</c> and <c>show</c> answer
/// what the key's partner may see. Each prints the backend's JSON answer; a new API key is in it once, as <c>apiKey</c>.
/// </summary>
internal static class PartnerCommand
{
    public static Command Create() =>
        new("partner", "The partner registry: add, list, show, rotate a key, suspend.") { Add(), List(), Show(), RotateKey(), Suspend() };

    private static Command Add()
    {
        var id = new Argument<string>("id") { Description = "The partner's id: lower-case letters, digits, '.', '_' or '-'." };
        var prefixes = new Option<string[]>("--prefix")
        {
            HelpName = "gs1 prefix",
            Description = "A GS1 company prefix the partner owns (repeat for several); its identifiers are the partner's to commission and see.",
            AllowMultipleArgumentsPerToken = true,
        };
        var granted = new Option<string[]>("--granted-prefix")
        {
            HelpName = "gs1 prefix",
            Description = "A prefix the partner may commission under on its owner's behalf (repeat for several).",
            AllowMultipleArgumentsPerToken = true,
        };
        var role = new Option<string[]>("--role") { HelpName = "partner|auditor|operator|financier", Description = "A role (repeat for several; default partner)." }
            .AcceptOnlyFromAmong("partner", "auditor", "operator", "financier");
        var name = new Option<string>("--name") { HelpName = "text", Description = "The display name (default: the id)." };
        var signingKey = new Option<string>("--signing-key") { HelpName = "jwk file", Description = "The partner's capture signing key: a P-256 public JWK, or a PEM of which only the public half is read." };
        var require = CliOptions.Flag("--require-signature", "Refuse the partner's unsigned captures (needs --signing-key).");
        var command = new Command("add", "Register a partner; prints {partner, apiKey}: the only time the new key is shown.")
        {
            id, prefixes, granted, role, name, signingKey, require,
        };
        return Operator(command, "api/partners", HttpMethod.Post, parseResult => new
        {
            id = parseResult.GetRequiredValue(id),
            name = parseResult.GetValue(name),
            roles = parseResult.GetValue(role) is { Length: > 0 } roles ? roles : ["partner"],
            prefixes = parseResult.GetValue(prefixes) ?? [],
            grantedPrefixes = parseResult.GetValue(granted) ?? [],
            signingKey = parseResult.GetValue(signingKey) is { } file ? SigningKeys.ReadPublicKey(file) : null,
            requireSignature = parseResult.GetValue(require),
        });
    }

    private static Command List() =>
        Operator(new Command("list", "List the partners the key may see (every partner for an auditor or operator)."), "api/partners", HttpMethod.Get, null);

    private static Command Show()
    {
        var id = PartnerId();
        return Operator(new Command("show", "Print one partner.") { id }, parseResult => $"api/partners/{Uri.EscapeDataString(parseResult.GetRequiredValue(id))}", HttpMethod.Get, null);
    }

    private static Command RotateKey()
    {
        var id = PartnerId();
        var overlap = new Option<long>("--overlap") { HelpName = "seconds", Description = "How long the replaced key keeps working.", DefaultValueFactory = _ => 86400 };
        var command = new Command("rotate-key", "Give the partner a new API key; prints {partner, apiKey}. The old key works for --overlap seconds more.") { id, overlap };
        return Operator(command, parseResult => $"api/partners/{Uri.EscapeDataString(parseResult.GetRequiredValue(id))}/keys", HttpMethod.Post,
            parseResult => new { overlapSeconds = parseResult.GetValue(overlap) });
    }

    private static Command Suspend()
    {
        var id = PartnerId();
        var reinstate = CliOptions.Flag("--reinstate", "Lift the suspension instead.");
        var command = new Command("suspend", "Suspend a partner: its keys are refused from the next request on.") { id, reinstate };
        return Operator(command, parseResult => $"api/partners/{Uri.EscapeDataString(parseResult.GetRequiredValue(id))}/suspension", HttpMethod.Post,
            parseResult => new { suspended = !parseResult.GetValue(reinstate) });
    }

    private static Argument<string> PartnerId() => new("id") { Description = "The partner's id." };

    private static Command Operator(Command command, string path, HttpMethod method, Func<ParseResult, object>? body) =>
        Operator(command, _ => path, method, body);

    private static Command Operator(Command command, Func<ParseResult, string> path, HttpMethod method, Func<ParseResult, object>? body) =>
        OperatorRequests.Send(command, "partner", path, method, body);
}

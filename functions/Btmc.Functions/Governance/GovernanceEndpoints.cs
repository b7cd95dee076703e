using System.Text.Json;
using Btmc.Functions.Partners;
using Btmc.Governance;
using Btmc.Ledger;

namespace Btmc.Functions.Governance;

/// <summary>
/// The committee's proposals and approvals, token holders' votes, and the governance state. Every write carries its
/// own signature (a member's or a holder's), checked against the ledger's registered keys; each is sealed in the
/// governance chain before it is answered. Thin: read the request, call the capability, map the result.
/// </summary>
public static class GovernanceEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/api/governance", GetOverviewAsync).WithName(FunctionNames.GetGovernance).RequireCaller();
        app.MapGet("/api/governance/proposals", ListProposalsAsync).WithName(FunctionNames.ListProposals).RequireCaller();
        app.MapPost("/api/governance/proposals", ProposeAsync).WithName(FunctionNames.CreateProposal);
        app.MapGet("/api/governance/proposals/{id}", GetProposalAsync).WithName(FunctionNames.GetProposal).RequireCaller();
        app.MapPost("/api/governance/proposals/{id}/approvals", ApproveAsync).WithName(FunctionNames.ApproveProposal);
        app.MapPost("/api/governance/votes", VoteAsync).WithName(FunctionNames.CastVote);
        app.MapGet("/api/governance/accounts/{account}", GetAccountAsync).WithName(FunctionNames.GetAccount).RequireCaller();
    }

    private static async Task<IResult> GetOverviewAsync(GovernanceService governance, CancellationToken cancellationToken)
    {
        var state = await governance.StateAsync(cancellationToken);
        var genesis = state.Genesis!;
        return Results.Json(new
        {
            domain = state.Domain,
            deployment = genesis.Deployment,
            chainId = GovernanceReplay.ChainId,
            genesisTime = DateTimeOffset.FromUnixTimeMilliseconds(genesis.GenesisTime),
            slotMilliseconds = genesis.SlotMilliseconds,
            slotsPerRound = genesis.SlotsPerRound,
            committee = state.Committee.OrderBy(m => m.Key, StringComparer.Ordinal).Select(m => new { member = m.Key, publicKey = m.Value, keyId = m.Value.ComputeThumbprint() }),
            threshold = GovernanceState.Threshold,
            producers = state.Electorate().Select(p => new
            {
                producer = p.ProducerId,
                key = state.Producers[p.ProducerId].Key,
                keyId = p.PublicKey.ComputeThumbprint(),
                publicKey = p.PublicKey,
                votes = p.Votes,
            }),
            parameters = state.Parameters,
            supply = state.Supply,
            height = governance.Ledger.Head?.Height,
        });
    }

    private static async Task<IResult> ListProposalsAsync(GovernanceService governance, CancellationToken cancellationToken) =>
        Results.Json(new { proposals = await governance.ListAsync(cancellationToken) });

    private static async Task<IResult> GetProposalAsync(string id, GovernanceService governance, CancellationToken cancellationToken) =>
        await governance.ShowAsync(id, cancellationToken) is { } proposal ? Results.Json(proposal) : Problems.NotFound($"There is no proposal {id}.");

    private static async Task<IResult> ProposeAsync(HttpRequest request, GovernanceService governance, CancellationToken cancellationToken)
    {
        return await Handle(request, async body =>
        {
            var (proposal, created) = await governance.ProposeAsync(Text(body, "payload"), Text(body, "member"), Text(body, "signature"), cancellationToken);
            return Results.Json(proposal, statusCode: created ? StatusCodes.Status201Created : StatusCodes.Status200OK).WithLocation($"/api/governance/proposals/{proposal.Id}");
        });
    }

    private static async Task<IResult> ApproveAsync(string id, HttpRequest request, GovernanceService governance, CancellationToken cancellationToken) =>
        await Handle(request, async body => Results.Json(await governance.ApproveAsync(id, Text(body, "member"), Text(body, "signature"), cancellationToken)));

    private static async Task<IResult> VoteAsync(HttpRequest request, GovernanceService governance, CancellationToken cancellationToken) =>
        await Handle(request, async body =>
        {
            EcPublicJwk? key;
            try
            {
                key = body.TryGetProperty("publicKey", out var jwk) ? jwk.Deserialize<EcPublicJwk>() : null;
            }
            catch (JsonException)
            {
                key = null;
            }

            if (key is null)
            {
                throw Refused.Invalid("publicKey", "The member publicKey (the holder's EC JWK) is required.");
            }

            return Results.Json(await governance.VoteAsync(Text(body, "payload"), key, Text(body, "signature"), cancellationToken));
        });

    private static async Task<IResult> GetAccountAsync(string account, GovernanceService governance, CancellationToken cancellationToken)
    {
        var state = await governance.StateAsync(cancellationToken);
        return Results.Json(new
        {
            account,
            holdings = state.Holdings.GetValueOrDefault(account),
            vote = await governance.VoteOfAsync(account, cancellationToken),
        });
    }

    /// <summary>Reads the JSON body (a JSON object, else the request is refused naming <c>body</c>) and hands it on.</summary>
    private static async Task<IResult> Handle(HttpRequest request, Func<JsonElement, Task<IResult>> handle)
    {
        JsonDocument document;
        try
        {
            document = await JsonDocument.ParseAsync(request.Body, cancellationToken: request.HttpContext.RequestAborted);
        }
        catch (JsonException ex)
        {
            throw Refused.Invalid("body", $"The body is not JSON: {ex.Message}");
        }

        using (document)
        {
            return document.RootElement.ValueKind == JsonValueKind.Object
                ? await handle(document.RootElement)
                : throw Refused.Invalid("body", "The body must be a JSON object.");
        }
    }

    private static string Text(JsonElement body, string member) =>
        body.TryGetProperty(member, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } text
            ? text
            : throw Refused.Invalid(member, $"The member '{member}' (a string) is required.");
}

using System.Globalization;
using System.Text.Json;
using Btmc.Compute;
using Btmc.Compute.Mining;
using Btmc.Compute.Rewards;
using Btmc.Epcis;
using Btmc.Functions.Host;
using Btmc.Functions.Supply;
using Btmc.Ledger;

namespace Btmc.Functions.Compute;

/// <summary>
/// Contributors, mining jobs and signed share submissions, each contributor's resource power, and the epochs' payouts
/// with their receipts; on Azure also the mining-events trigger and the epoch-closing timer (docs/compute.md).
/// </summary>
public static class MiningEndpoints
{
    /// <summary>The hub submissions are published to and the trigger reads.</summary>
    public const string EventHubName = "mining-events";

    /// <summary>The trigger's consumer group.</summary>
    public const string ConsumerGroup = "accountant";

    /// <summary>The connection name: <c>MiningEvents__fullyQualifiedNamespace</c> (+ <c>__credential</c>, <c>__clientId</c>) or the connection string <c>MiningEvents</c>.</summary>
    public const string Connection = "MiningEvents";

    public static readonly TriggerFunction AccountTrigger = TriggerFunction.EventHub(EventHubName, Connection, ConsumerGroup);

    /// <summary>Every minute: closes the reward epochs that have ended (idempotent; nothing to do most minutes).</summary>
    public static readonly TriggerFunction CloseSchedule = TriggerFunction.Timer("0 * * * * *");

    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapPost("/api/compute/contributors", RegisterAsync).WithName(FunctionNames.RegisterContributor);
        app.MapGet("/api/compute/contributors/{id}", GetContributorAsync).WithName(FunctionNames.GetContributor);
        app.MapGet("/api/compute/mining/job", IssueJobAsync).WithName(FunctionNames.GetMiningJob);
        app.MapPost("/api/compute/shares", SubmitAsync).WithName(FunctionNames.SubmitShares);
        app.MapGet("/api/compute/epochs/{epoch:long}", GetEpochAsync).WithName(FunctionNames.GetEpoch);
        app.MapGet("/api/compute/epochs/{epoch:long}/payouts/{contributor}", GetPayoutAsync).WithName(FunctionNames.GetPayout);
        app.MapPost("/" + FunctionNames.AccountMiningEvents, AccountAsync).WithName(FunctionNames.AccountMiningEvents).WithMetadata(AccountTrigger);
        app.MapPost("/" + FunctionNames.CloseEpochs, CloseAsync).WithName(FunctionNames.CloseEpochs).WithMetadata(CloseSchedule);
    }

    private static async Task<IResult> RegisterAsync(HttpRequest request, ComputeBackend compute, CancellationToken cancellationToken)
    {
        JsonElement body;
        try
        {
            body = (await JsonDocument.ParseAsync(request.Body, cancellationToken: cancellationToken)).RootElement;
            var key = body.TryGetProperty("publicKey", out var jwk) ? jwk.Deserialize<EcPublicJwk>() : null;
            var (contributor, created) = await compute.Contributors.RegisterAsync(
                Text(body, "id"), Text(body, "resourceType"), key ?? throw Refused.Invalid("publicKey", "The member publicKey (an EC JWK) is required."),
                Text(body, "signature"), compute.Time.GetUtcNow(), cancellationToken);
            return Results.Json(contributor, statusCode: created ? StatusCodes.Status201Created : StatusCodes.Status200OK).WithLocation($"/api/compute/contributors/{contributor.Id}");
        }
        catch (JsonException ex)
        {
            throw Refused.Invalid("body", $"The body is not a JSON registration: {ex.Message}");
        }
    }

    private static async Task<IResult> GetContributorAsync(string id, ComputeBackend compute, CancellationToken cancellationToken)
    {
        if (await compute.Contributors.FindAsync(id, cancellationToken) is not { } contributor)
        {
            return Problems.NotFound($"There is no contributor '{id}'.");
        }

        var epoch = compute.Options.EpochOf(compute.Time.GetUtcNow());
        var powers = await compute.Rewards.PowerOfEpochAsync(epoch, cancellationToken);
        var (power, account, taskWork) = powers.TryGetValue(id, out var found) ? found : (new ResourcePower(UInt128.Zero, 0, compute.Options.BucketSeconds, 0), new PowerAccount(compute.Options.EpochSeconds / compute.Options.BucketSeconds), UInt128.Zero);
        return Results.Json(new
        {
            contributor,
            epoch,
            epochStart = compute.Options.EpochStart(epoch),
            power = PowerView(power, account, taskWork),
        });
    }

    private static async Task<IResult> IssueJobAsync(string? contributor, ComputeBackend compute, CancellationToken cancellationToken)
    {
        return Results.Json(await compute.Mining.IssueJobAsync(contributor ?? throw Refused.Invalid("contributor", "The query parameter contributor is required."), cancellationToken));
    }

    private static async Task<IResult> SubmitAsync(HttpRequest request, ComputeBackend compute, CancellationToken cancellationToken)
    {
        ShareSubmission? submission;
        try
        {
            submission = await JsonSerializer.DeserializeAsync<ShareSubmission>(request.Body, JsonSerializerOptions.Web, cancellationToken);
        }
        catch (JsonException ex)
        {
            throw Refused.Invalid("body", $"The body is not a share submission: {ex.Message}");
        }

        if (submission is not { Contributor: not null, Jobs: not null, Signature: not null })
        {
            throw Refused.Invalid("body", "A submission has contributor, sent, heartbeat, jobs and signature.");
        }

        var nonces = await compute.Mining.SubmitAsync(submission, cancellationToken);
        return Results.Json(new { accepted = true, nonces }, statusCode: StatusCodes.Status202Accepted);
    }

    private static async Task<IResult> GetEpochAsync(long epoch, ComputeBackend compute, CancellationToken cancellationToken)
    {
        if (await compute.Rewards.FindEpochBlockAsync(epoch, cancellationToken) is { } block)
        {
            var entries = await compute.Store.Reader.ReadEntriesAsync(RewardLedger.ChainId, block.Header.Height, block.BlockHash, block.Header.LeafCount, withEvents: true, cancellationToken);
            var records = entries.Select(e => RewardRecord.FromJson(e.Event.Span)).ToList();
            return Results.Json(new
            {
                epoch,
                closed = true,
                height = block.Header.Height,
                summary = records.OfType<EpochRecord>().Single(),
                payouts = records.OfType<PayoutRecord>(),
            });
        }

        var powers = await compute.Rewards.PowerOfEpochAsync(epoch, cancellationToken);
        return Results.Json(new
        {
            epoch,
            closed = false,
            start = compute.Options.EpochStart(epoch),
            end = compute.Options.EpochStart(epoch + 1),
            contributors = powers.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => new { contributor = p.Key, power = PowerView(p.Value.Power, p.Value.Account, p.Value.TaskWork) }),
        });
    }

    private static async Task<IResult> GetPayoutAsync(long epoch, string contributor, ComputeBackend compute, CancellationToken cancellationToken) =>
        await PayoutReceipt.BuildAsync(compute.Rewards, compute.Store.Reader, epoch, contributor, cancellationToken) is { } receipt
            ? Results.Json(receipt, PayoutReceipt.JsonOptions)
            : Problems.NotFound($"Epoch {epoch} is not closed, or it paid nothing to '{contributor}'.");

    private static async Task<IResult> AccountAsync(HttpRequest request, ComputeBackend compute, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        var logger = loggers.CreateLogger(FunctionNames.AccountMiningEvents);
        if (compute.Log is not null)
        {
            return Problems.Of(StatusCodes.Status409Conflict, "Not on Event Hubs", "This server accounts from its embedded mining log; set the MiningEvents connection to account mining-events hub batches.");
        }

        List<Btmc.Supply.HubDelivery> deliveries;
        try
        {
            using var document = await JsonDocument.ParseAsync(request.Body, cancellationToken: cancellationToken);
            (_, deliveries) = SupplyEventsTrigger.ReadBatch(Invocation.Parse(document.RootElement));
        }
        catch (Exception ex) when (ex is InvocationException or JsonException)
        {
            var member = ex is InvocationException invocationError ? invocationError.Member : string.Empty;
            return Problems.Of(StatusCodes.Status400BadRequest, "Invalid invocation", ex.Message, [new EpcisProblem(null, member, ex.Message)]);
        }

        var outcome = await compute.Accountant.AccountAsync(deliveries.Select(d => new DeliveredMiningEvent(d.SequenceNumber, d.Body)).ToList(), cancellationToken);
        var summary = string.Create(CultureInfo.InvariantCulture,
            $"{deliveries.Count} mining events: {outcome.Accepted} shares accepted, {outcome.Duplicates} duplicate, {outcome.Stale} stale, {outcome.Invalid} invalid; {outcome.Replayed} already accounted, {outcome.Unreadable} unreadable");
        logger.LogInformation("{Summary}", summary);
        return InvocationResult.Completed([summary]);
    }

    private static async Task<IResult> CloseAsync(ComputeBackend compute, CancellationToken cancellationToken)
    {
        var closed = await compute.CloseDueEpochsAsync(cancellationToken);
        return InvocationResult.Completed(closed.Select(e => string.Create(CultureInfo.InvariantCulture, $"epoch {e.Epoch} closed: {e.Contributors} contributors, {e.Paid} of {e.Pool} paid")).ToList());
    }

    private static object PowerView(ResourcePower power, PowerAccount account, UInt128 taskWork) => new
    {
        work = power.Work.ToString(CultureInfo.InvariantCulture),
        taskWork = taskWork.ToString(CultureInfo.InvariantCulture),
        hashRate = power.HashRate,
        onlineHours = power.OnlineHours,
        dpp = power.Dpp,
        persistence = power.Persistence,
        pp = power.Pp,
        accepted = account.Accepted,
        duplicates = account.Duplicates,
        stale = account.Stale,
        invalid = account.Invalid,
    };

    private static string Text(JsonElement body, string member) =>
        body.TryGetProperty(member, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } text
            ? text
            : throw Refused.Invalid(member, $"The member '{member}' (a string) is required.");
}

using System.Globalization;
using System.Text;
using System.Text.Json;
using Btmc.Epcis;
using Btmc.Functions.Host;
using Btmc.Supply;

namespace Btmc.Functions.Supply;

/// <summary>
/// The sealer on Azure: an Event Hubs-triggered function over the supply-events hub (cardinality many, dataType
/// string), invoked by the host as <c>POST /SealSupplyEvents</c> with one partition's batch. It seals the batch into
/// that partition's chain and answers with the documented response; a failure answers 500, so that the host retries
/// the batch (the function's retry policy retries forever: the partition waits rather than loses events).
/// </summary>
public static class SupplyEventsTrigger
{
    /// <summary>The hub capture publishes to and the trigger reads.</summary>
    public const string EventHubName = "supply-events";

    /// <summary>The trigger's consumer group (created with the hub, infra/).</summary>
    public const string ConsumerGroup = "sealer";

    /// <summary>The connection name: the app settings <c>SupplyEvents__fullyQualifiedNamespace</c> (+ <c>__credential</c>,
    /// <c>__clientId</c>) or the connection string <c>SupplyEvents</c>, read by the host and the handler alike.</summary>
    public const string Connection = "SupplyEvents";

    /// <summary>The trigger's binding name: the batch arrives as <c>Data.events</c>.</summary>
    public const string BindingName = TriggerFunction.EventsBinding;

    public static readonly TriggerFunction Function = TriggerFunction.EventHub(EventHubName, Connection, ConsumerGroup);

    /// <summary>host.json's <c>extensions.eventHubs.maxEventBatchSize</c>: the most events the host posts in one
    /// invocation (a test keeps the two equal).</summary>
    public const int MaxEventBatchSize = 1000;

    /// <summary>An envelope's bytes beyond its event: ids, hash, capture, partner, time and a capture signature with its
    /// key (<see cref="Btmc.Supply.Capture.SupplyEventEnvelope"/>).</summary>
    public const int EnvelopeOverheadBytes = 2048;

    /// <summary>The metadata the host adds per event (partition key, offset, sequence number, enqueued time, each in a
    /// JSON array written as a string) and once per invocation (partition context, sys, retry context).</summary>
    public const int MetadataPerEventBytes = 512, InvocationOverheadBytes = 64 * 1024;

    /// <summary>
    /// Bytes one JSON string escape can make of one byte: <c>\u003C</c> for <c>&lt;</c> under an encoder that escapes
    /// HTML characters. The host writes each event body as a string inside a JSON array that is itself a string
    /// (<c>Data.events</c>), so the body is escaped twice: at most 6 bytes after the first, 7 after the second (only the
    /// first escape's backslash is escaped again; <c>"</c> gives <c>\"</c> then <c>\\\"</c>, 4).
    /// </summary>
    public const int WorstEscapedBytesPerByte = 7;

    /// <summary>
    /// The largest invocation the host can post (docs/architecture.md, "Trigger batches"): a full batch of events of
    /// <see cref="SupplyOptions.MaxEventBytes"/> each, escaped twice at worst, with the host's metadata. The endpoint's
    /// request limit is this, not the capture limit: a batch refused with 413 would be retried forever
    /// (<c>maxRetryCount: -1</c>) and stall its partition.
    /// </summary>
    public static long MaxInvocationBytes(SupplyOptions options) =>
        ((long)MaxEventBatchSize * ((WorstEscapedBytesPerByte * (long)(options.MaxEventBytes + EnvelopeOverheadBytes)) + MetadataPerEventBytes)) + InvocationOverheadBytes;

    public static void Map(IEndpointRouteBuilder app) =>
        app.MapPost("/" + FunctionNames.SealSupplyEvents, SealAsync).WithName(FunctionNames.SealSupplyEvents).WithMetadata(Function);

    private static async Task<IResult> SealAsync(HttpRequest request, SupplyBackend backend, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        var logger = loggers.CreateLogger(FunctionNames.SealSupplyEvents);
        if (!backend.OnEventHubs)
        {
            return Problems.Of(StatusCodes.Status409Conflict, "Not on Event Hubs",
                "This server seals from its embedded event log; set the SupplyEvents connection to seal supply-events hub batches.");
        }

        // Before the body is read: the capture limit (the server's default) is far below a full batch's worst case.
        if (request.HttpContext.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = MaxInvocationBytes(backend.Options);
        }

        int partition;
        List<HubDelivery> deliveries;
        int retry;
        try
        {
            using var document = await JsonDocument.ParseAsync(request.Body, cancellationToken: cancellationToken);
            var invocation = Invocation.Parse(document.RootElement);
            (partition, deliveries) = ReadBatch(invocation);
            retry = invocation.RetryCount;
        }
        catch (Exception ex) when (ex is InvocationException or JsonException)
        {
            var member = ex is InvocationException invocationError ? invocationError.Member : string.Empty;
            logger.LogError("{Function}: the host's invocation is not in the documented shape at '{Member}': {Detail}", FunctionNames.SealSupplyEvents, member, ex.Message);
            return Problems.Of(StatusCodes.Status400BadRequest, "Invalid invocation", ex.Message, [new EpcisProblem(null, member, ex.Message)]);
        }

        if (partition >= backend.Options.Partitions)
        {
            var detail = $"Event hub partition {partition} has no chain: Supply:Partitions is {backend.Options.Partitions} and must equal the hub's partition count.";
            logger.LogError("{Function}: {Detail}", FunctionNames.SealSupplyEvents, detail);
            return Problems.Of(StatusCodes.Status500InternalServerError, "Partition without a chain", detail);
        }

        try
        {
            var outcome = await backend.SealDeliveredAsync(partition, deliveries, cancellationToken);
            var chainId = backend.Options.ChainId(partition);
            var sealedEvents = outcome.Sealed.Blocks.Sum(b => b.Entries);
            var summary = string.Create(CultureInfo.InvariantCulture,
                $"{chainId}: {deliveries.Count} delivered (sequence {FirstSequence(deliveries)}..{LastSequence(deliveries)}{(retry > 0 ? $", retry {retry}" : string.Empty)}), {outcome.Sealed.Blocks.Count} block(s) with {sealedEvents} event(s) sealed, {outcome.Sealed.Duplicates} already sealed, {outcome.DeadLettered} dead-lettered");
            logger.LogInformation("{Summary}", summary);
            return InvocationResult.Completed([summary]);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            // Logs in a failed response are dropped by the host: say it here, on the handler's own output.
            logger.LogError(ex, "{Function}: sealing partition {Partition} failed; the host retries the batch", FunctionNames.SealSupplyEvents, partition);
            return Problems.Of(StatusCodes.Status500InternalServerError, "Sealing failed", $"Sealing partition {partition} failed: {ex.Message}. The batch is retried.");
        }
    }

    /// <summary>Data.events (the bodies) with Metadata's PartitionContext.PartitionId, SequenceNumberArray, OffsetArray and
    /// EnqueuedTimeUtcArray, which must be as long as the batch.</summary>
    public static (int Partition, List<HubDelivery> Deliveries) ReadBatch(Invocation invocation)
    {
        var context = invocation.MetadataObject("PartitionContext");
        var partitionId = Invocation.Member(context, "PartitionId") is { } id ? Invocation.ReadString(id, "/Metadata/PartitionContext/PartitionId") : null;
        if (!int.TryParse(partitionId, NumberStyles.None, CultureInfo.InvariantCulture, out var partition))
        {
            throw new InvocationException("/Metadata/PartitionContext/PartitionId", $"PartitionContext.PartitionId '{partitionId}' is not a partition number.");
        }

        var bodies = invocation.DataArray(BindingName);
        var sequenceNumbers = invocation.MetadataArray("SequenceNumberArray");
        var offsets = invocation.MetadataArray("OffsetArray");
        var enqueued = invocation.MetadataArray("EnqueuedTimeUtcArray");
        var count = bodies.GetArrayLength();
        foreach (var (name, array) in new[] { ("SequenceNumberArray", sequenceNumbers), ("OffsetArray", offsets), ("EnqueuedTimeUtcArray", enqueued) })
        {
            if (array.GetArrayLength() != count)
            {
                throw new InvocationException("/Metadata/" + name, $"Metadata.{name} has {array.GetArrayLength()} items for {count} events.");
            }
        }

        var deliveries = new List<HubDelivery>(count);
        for (var i = 0; i < count; i++)
        {
            var body = bodies[i];
            var text = body.ValueKind == JsonValueKind.String ? body.GetString()! : body.GetRawText();
            deliveries.Add(new HubDelivery(
                Invocation.ReadInt64(sequenceNumbers[i], $"/Metadata/SequenceNumberArray/{i}"),
                Invocation.ReadString(offsets[i], $"/Metadata/OffsetArray/{i}"),
                Invocation.ReadTime(enqueued[i], $"/Metadata/EnqueuedTimeUtcArray/{i}"),
                Encoding.UTF8.GetBytes(text)));
        }

        return (partition, deliveries);
    }

    private static string FirstSequence(List<HubDelivery> deliveries) => deliveries.Count > 0 ? deliveries[0].SequenceNumber.ToString(CultureInfo.InvariantCulture) : "-";

    private static string LastSequence(List<HubDelivery> deliveries) => deliveries.Count > 0 ? deliveries[^1].SequenceNumber.ToString(CultureInfo.InvariantCulture) : "-";
}

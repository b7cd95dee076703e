using System.Buffers;
using System.Text.Json;
using Btmc.Chains;
using Btmc.Epcis.Xml;
using Btmc.Functions.Ledger;
using Btmc.Functions.Partners;
using Btmc.Governance;
using Btmc.Ledger;
using Btmc.Supply;
using Btmc.Supply.Access;
using Btmc.Supply.Sealing;

namespace Btmc.Functions.Supply;

/// <summary>EPCIS capture and the views of what was captured. Thin: read the request, call the capability, map the result.</summary>
public static class CaptureEndpoints
{
    /// <summary>The request header carrying the partner's detached JWS over the body (docs/partners.md, "Signed captures").</summary>
    public const string SignatureHeader = "Btmc-Signature";

    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapPost("/api/epcis/capture", CaptureAsync).WithName(FunctionNames.CaptureEvents).RequireCaller(PartnerRoles.Partner);
        app.MapGet("/api/epcis/capture/{captureId}", GetCaptureAsync).WithName(FunctionNames.GetCapture).RequireCaller();
        app.MapGet("/api/epcis/events/{*eventId}", GetEventAsync).WithName(FunctionNames.GetEvent).RequireCaller();
    }

    private static async Task<IResult> CaptureAsync(HttpContext context, HttpRequest request, HttpResponse response, SupplyBackend backend, PartnerRegistry partners, RollbackGuard rollback, CancellationToken cancellationToken)
    {
        if (rollback.IsRefused)
        {
            // Accepting would promise sealing that cannot happen: refuse before reading, nothing is lost.
            return RollbackSetup.Problem(rollback);
        }

        var limit = backend.Options.MaxCaptureBytes;
        if (request.ContentLength > limit)
        {
            return TooLarge(request.ContentLength.Value, limit);
        }

        using var body = new PooledBody(limit);
        try
        {
            if (!await body.ReadAsync(request.Body, cancellationToken))
            {
                return TooLarge(null, limit);
            }
        }
        catch (Exception ex) when (ex is BadHttpRequestException or IOException || (ex is OperationCanceledException && context.RequestAborted.IsCancellationRequested))
        {
            // The client closed or reset the connection mid-body: an ordinary event under load, not a server fault.
            return Problems.Of(StatusCodes.Status400BadRequest, "Incomplete request",
                "The request body ended before it was complete (the connection was closed or reset). Nothing of this document was accepted; send it again.");
        }

        var caller = PartnerAuthentication.CallerOf(context);
        if (CheckSignature(partners.Directory.Partners[caller.PartnerId].Spec, request, response, body.Memory.Span, out var signed) is { } unsigned)
        {
            return unsigned;
        }

        var document = body.Memory;
        if (IsXml(request.ContentType))
        {
            // The EPCIS 2.0 XML binding: converted to the JSON-LD binding, then captured like any JSON-LD document.
            var conversion = EpcisXmlConverter.Convert(body.Memory.Span);
            if (!conversion.Succeeded)
            {
                var problem = conversion.Problems[0];
                return Problems.Of(StatusCodes.Status400BadRequest, "Invalid capture document", $"{problem.Pointer}: {problem.Detail}", conversion.Problems);
            }

            document = conversion.JsonLd;
        }
        else if (!IsJson(request.ContentType))
        {
            return Problems.Of(StatusCodes.Status415UnsupportedMediaType, "Unsupported media type",
                $"Content-Type '{request.ContentType}' is not accepted: send application/json or application/ld+json (EPCIS 2.0 JSON-LD), or application/xml (EPCIS 2.0 XML).");
        }

        var accepted = await backend.Capture.CaptureAsync(caller, document, signed, cancellationToken);
        var location = $"/api/epcis/capture/{accepted.CaptureId}";
        return Results.Json(
            new { captureId = accepted.CaptureId, location, eventIds = accepted.EventIds, newEvents = accepted.NewEvents, repeated = accepted.Repeated },
            statusCode: StatusCodes.Status202Accepted,
            contentType: "application/json").WithLocation(location);
    }

    /// <summary>
    /// The partner's signature over the exact request body, checked before anything is read from the body: a present
    /// header always verifies against the partner's registered key; a missing one is fine unless the partner must sign.
    /// Null when the capture may go on (<paramref name="signed"/> set when it is signed), else the 401 to answer.
    /// </summary>
    private static IResult? CheckSignature(PartnerSpec registered, HttpRequest request, HttpResponse response, ReadOnlySpan<byte> body, out SignedCapture? signed)
    {
        signed = null;
        var (partner, key, required) = (registered.Id, registered.SigningKey, registered.RequireSignature);
        var headers = request.Headers[SignatureHeader];
        string? failure;
        if (headers.Count == 0)
        {
            failure = required ? $"Partner '{partner}' must sign its captures: send a detached ES256 JWS over the exact body in the {SignatureHeader} header." : null;
        }
        else if (headers.Count > 1)
        {
            failure = $"Send one {SignatureHeader} header, not {headers.Count}.";
        }
        else if (key is null)
        {
            failure = $"Partner '{partner}' has no registered signing key, so its {SignatureHeader} cannot be checked: register its P-256 public key, or send no signature.";
        }
        else if (!DetachedJws.Verify(headers[0], body, key, out var reason))
        {
            failure = $"The {SignatureHeader} header does not verify: {reason}.";
        }
        else
        {
            signed = new SignedCapture(Hash32.Compute(body), headers[0]!, key);
            failure = null;
        }

        if (failure is null)
        {
            return null;
        }

        response.Headers.WWWAuthenticate = $"{SignatureHeader} alg=\"{DetachedJws.ES256}\"";
        return Problems.OfField(StatusCodes.Status401Unauthorized, "Signature not accepted", failure + " Nothing of this document was accepted.", SignatureHeader);
    }

    /// <summary>A capture signature as the capture and event views show it.</summary>
    private static object? SignatureView(SignedCapture? signed) =>
        signed is null ? null : new { documentSha256 = signed.DocumentSha256.ToHex(), signature = signed.Jws, signingKey = signed.SigningKey };


    /// <summary>A partner sees its own captures; auditors and operators see every capture. Another partner's is absent.</summary>
    private static async Task<IResult> GetCaptureAsync(string captureId, HttpContext context, SupplyBackend backend, SealingWatch watch, CancellationToken cancellationToken)
    {
        var caller = PartnerAuthentication.CallerOf(context);
        var status = await backend.Reader.GetCaptureStatusAsync(captureId, cancellationToken);
        if (status is not null && !caller.SeesEverything && !string.Equals(status.Partner, caller.PartnerId, StringComparison.Ordinal))
        {
            status = null;
        }

        return status is null
            ? Problems.NotFound($"No capture '{captureId}' was recorded.")
            : Results.Json(new
            {
                sealing = status.UnsealedEventIds.Count == 0 ? null : await SealingOfAsync(status.UnsealedEventIds, backend, watch, cancellationToken),
                captureId = status.CaptureId,
                partner = status.Partner,
                receivedAt = status.ReceivedAt,
                eventCount = status.EventCount,
                accepted = status.EventCount,
                @sealed = status.Sealed,
                pending = status.Pending,
                complete = status.Pending == 0,
                eventIds = status.EventIds,
                errors = status.Errors,
                signed = SignatureView(status.Signed),
            });
    }

    /// <summary>
    /// Where a capture's unsealed events wait: per chain, how many, and how that chain's sealing stands (late or stalled,
    /// and why). On Event Hubs the chain is the hub partition's and this instance cannot see it: the events are listed
    /// as awaiting the trigger.
    /// </summary>
    private static async Task<object> SealingOfAsync(IReadOnlyList<string> unsealed, SupplyBackend backend, SealingWatch watch, CancellationToken cancellationToken)
    {
        var chains = (await watch.InspectAsync(cancellationToken)).ToDictionary(c => c.ChainId, StringComparer.Ordinal);
        var byChain = unsealed
            .GroupBy(id => backend.Pending.TryGet(id, out var waiting) && !backend.OnEventHubs ? backend.Options.ChainId(waiting.Partition) : null)
            .ToList();
        return new
        {
            chains = byChain.Where(g => g.Key is not null).Select(g =>
            {
                var chain = chains.GetValueOrDefault(g.Key!);
                return new
                {
                    chainId = g.Key,
                    events = g.Count(),
                    unsealed = chain?.Unsealed,
                    oldestUnsealedAgeMs = chain?.OldestUnsealedAge?.TotalMilliseconds,
                    sealer = chain is null ? null : LedgerEndpoints.SealerView(chain),
                };
            }),
            elsewhere = byChain.Where(g => g.Key is null).Sum(g => g.Count()),
            note = backend.OnEventHubs
                ? "Accepted events are on the supply-events hub; the SealSupplyEvents trigger seals each partition's batches on the instance holding its lease."
                : byChain.Any(g => g.Key is null)
                    ? "Some of this capture's events are neither sealed nor waiting in this server's event log."
                    : null,
        };
    }

    /// <summary>An event the caller may not see (docs/partners.md) is answered as if it were absent.</summary>
    private static async Task<IResult> GetEventAsync(string eventId, HttpContext context, SupplyBackend backend, CancellationToken cancellationToken)
    {
        var view = await backend.Reader.GetEventAsync(Uri.UnescapeDataString(eventId), cancellationToken);
        if (view is null || !EventAccess.CanSee(PartnerAuthentication.CallerOf(context), view.Partner, view.Event))
        {
            return Problems.NotFound($"No event '{eventId}' was captured.");
        }

        using var document = JsonDocument.Parse(view.Event);
        return Results.Json(new
        {
            eventId = view.EventId,
            eventHash = view.EventHash.ToHex(),
            status = view.Status,
            captureId = view.CaptureId,
            partner = view.Partner,
            receivedAt = view.ReceivedAt,
            position = view.Position,
            signed = SignatureView(view.Signed),
            @event = document.RootElement.Clone(),
        });
    }

    private static bool IsXml(string? contentType) =>
        MediaType(contentType) is "application/xml" or "text/xml";

    private static bool IsJson(string? contentType) =>
        MediaType(contentType) is null or "application/json" or "application/ld+json";

    private static string? MediaType(string? contentType) =>
        string.IsNullOrWhiteSpace(contentType) ? null : contentType.Split(';')[0].Trim().ToLowerInvariant();

    private static IResult TooLarge(long? size, int limit) => Problems.Of(
        StatusCodes.Status413PayloadTooLarge, "Capture too large",
        $"The body {(size is long s ? $"is {s} bytes" : "exceeds the limit")}; at most {limit} bytes are accepted per capture.");

    /// <summary>The request body in a pooled buffer, refused past the limit.</summary>
    private sealed class PooledBody(int limit) : IDisposable
    {
        private byte[] _buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        private int _length;

        public ReadOnlyMemory<byte> Memory => _buffer.AsMemory(0, _length);

        public async Task<bool> ReadAsync(Stream body, CancellationToken cancellationToken)
        {
            while (true)
            {
                if (_length == _buffer.Length)
                {
                    var bigger = ArrayPool<byte>.Shared.Rent(_buffer.Length * 2);
                    _buffer.AsSpan(0, _length).CopyTo(bigger);
                    ArrayPool<byte>.Shared.Return(_buffer);
                    _buffer = bigger;
                }

                var read = await body.ReadAsync(_buffer.AsMemory(_length), cancellationToken);
                if (read == 0)
                {
                    return true;
                }

                _length += read;
                if (_length > limit)
                {
                    return false;
                }
            }
        }

        public void Dispose() => ArrayPool<byte>.Shared.Return(_buffer);
    }
}

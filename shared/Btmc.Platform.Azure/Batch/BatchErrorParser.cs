using System.Text.Json;
using Azure;
using Azure.Core;

namespace Btmc.Platform.Azure.Batch;

/// <summary>
/// Reads the Batch error body into a <see cref="RequestFailedException"/>: Batch puts
/// <c>{"odata.metadata","code","message":{"lang","value"},"values":[{"key","value"}]}</c> at the top level (not under
/// <c>"error"</c>, where Azure.Core's default parser looks), so <see cref="RequestFailedException.ErrorCode"/> is the
/// <c>code</c>, the message starts with <c>message.value</c>, and each <c>values</c> item is listed as additional
/// information (and kept in <see cref="Exception.Data"/>).
/// </summary>
internal sealed class BatchErrorParser : RequestFailedDetailsParser
{
    public static BatchErrorParser Instance { get; } = new();

    public override bool TryParse(Response response, out ResponseError? error, out IDictionary<string, string>? data)
    {
        error = null;
        data = null;
        if (response.Content is null || response.Content.ToMemory().IsEmpty)
        {
            return false;
        }

        try
        {
            using var document = JsonDocument.Parse(response.Content.ToMemory());
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                return false;
            }

            var batchError = BatchJson.ReadError(document.RootElement);
            if (batchError.Code is null)
            {
                return false;
            }

            error = new ResponseError(batchError.Code, batchError.Message?.Value ?? batchError.Code);
            if (batchError.Values.Count > 0)
            {
                data = new Dictionary<string, string>(StringComparer.Ordinal);
                foreach (var detail in batchError.Values)
                {
                    if (detail.Key is { } key)
                    {
                        data[key] = detail.Value ?? "";
                    }
                }
            }

            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}

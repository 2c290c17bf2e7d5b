"""Requests the fake does not serve, and how each ends at once so no client waits for an answer that never comes.

* A request with a request id gets error 322 on that id, naming the request (ib_async and ib_insync end the
  request: 322 is not one of their warning codes; ibapi hands it to `error`).
* A request without one whose caller waits for a particular message (reqScannerParameters, reqFamilyCodes,
  reqMktDepthExchanges, reqNewsProviders, requestFA) gets that message, empty, and error 322 on id -1 saying why.
* Any other (reqNewsBulletins, verifyRequest, an unknown message id) gets error 322 on id -1.
* Cancels of what the fake never serves, setServerLogLevel and reqAutoOpenOrders need no answer (TWS sends none):
  they are accepted and do nothing.

Request-id positions follow ib_async 2.1.0's `client.py` (the same in ibapi 9.81 at server version 157).
"""

from __future__ import annotations

from .decoder import as_int, field, request_name
from .encoder import Fields

UNSERVED_CODE = 322

# Unserved requests that carry a request id, and where it sits (index into the field list).
REQ_ID_INDEX: dict[int, int] = {
    10: 2,  # reqMktDepth
    19: 4,  # replaceFA
    21: 2,  # exerciseOptions
    22: 1,  # reqScannerSubscription (no version field since server version 143)
    52: 2,  # reqFundamentalData
    54: 2,  # calculateImpliedVolatility
    55: 2,  # calculateOptionPrice
    67: 2,  # queryDisplayGroups
    68: 2,  # subscribeToGroupEvents
    69: 2,  # updateDisplayGroup
    78: 1,  # reqSecDefOptParams
    79: 1,  # reqSoftDollarTiers
    81: 1,  # reqMatchingSymbols
    83: 1,  # reqSmartComponents
    84: 1,  # reqNewsArticle
    86: 1,  # reqHistoricalNews
    88: 1,  # reqHistogramData
    94: 1,  # reqPnLSingle
    96: 1,  # reqHistoricalTicks
    97: 1,  # reqTickByTickData
    100: 1,  # reqWshMetaData
    102: 1,  # reqWshEventData
    104: 1,  # reqUserInfo
}

# Unserved requests without a request id whose caller waits for one message: that message, empty.
EMPTY_ANSWERS: dict[int, Fields] = {
    18: ["16", "1", "1", ""],  # requestFA -> receiveFA(faDataType, "")
    24: ["19", "1", ""],  # reqScannerParameters -> scannerParameters("")
    80: ["78", "0"],  # reqFamilyCodes -> familyCodes([])
    82: ["80", "0"],  # reqMktDepthExchanges -> mktDepthExchanges([])
    85: ["85", "0"],  # reqNewsProviders -> newsProviders([])
}

# Requests TWS never answers whose effect the fake has nothing to model: accepted, nothing sent.
ACCEPTED_WITHOUT_ANSWER = frozenset({
    11,  # cancelMktDepth
    13,  # cancelNewsBulletins
    14,  # setServerLogLevel
    15,  # reqAutoOpenOrders
    23,  # cancelScannerSubscription
    53,  # cancelFundamentalData
    56,  # cancelCalculateImpliedVolatility
    57,  # cancelCalculateOptionPrice
    70,  # unsubscribeFromGroupEvents
    89,  # cancelHistogramData
    95,  # cancelPnLSingle
    98,  # cancelTickByTickData
    101,  # cancelWshMetaData
    103,  # cancelWshEventData
})


def unserved_text(msg_id: int) -> str:
    return (f"Error processing request.-'fake' : cause - {request_name(msg_id)} is not served by the fake gateway "
            f"(docs/fake-gateway.md lists what it serves)")


def unserved_req_id(msg_id: int, fields: list[str]) -> int:
    """The request id an unserved request's error goes to: its own, else -1."""
    index = REQ_ID_INDEX.get(msg_id)
    return -1 if index is None else as_int(field(fields, index), -1)


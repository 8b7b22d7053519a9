import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from inventory import Inventory, OutOfStockError, StockItem  # noqa: E402


def make_inventory():
    return Inventory([
        StockItem("NR-1002", "Kestrel Probe", on_hand=12, reorder_point=5, reorder_qty=20, unit_cost=3150.00),
        StockItem("NR-1005", "Cobalt Tap", on_hand=4, reorder_point=10, reorder_qty=25, unit_cost=410.50),
        StockItem("NR-1017", "Wren Beacon", on_hand=30, reorder_point=8, reorder_qty=15, unit_cost=189.99),
    ])


def test_receive_adds_stock():
    inv = make_inventory()
    inv.receive("NR-1017", 5)
    assert inv.get("NR-1017").on_hand == 35


def test_ship_removes_stock():
    inv = make_inventory()
    inv.ship("NR-1002", 2)
    assert inv.get("NR-1002").on_hand == 10


def test_ship_more_than_on_hand_raises():
    inv = make_inventory()
    with pytest.raises(OutOfStockError):
        inv.ship("NR-1005", 5)


def test_unknown_sku_raises_key_error():
    inv = make_inventory()
    with pytest.raises(KeyError):
        inv.get("NR-9999")


def test_needs_reorder_below_point():
    inv = make_inventory()
    assert inv.needs_reorder("NR-1005") is True
    assert inv.needs_reorder("NR-1017") is False


def test_reorder_list_after_shipments():
    inv = make_inventory()
    inv.ship("NR-1002", 7)  # leaves 5 on hand, exactly the reorder point
    inv.ship("NR-1017", 10)  # leaves 20 on hand, well above the reorder point
    assert inv.reorder_list() == [("NR-1002", 20), ("NR-1005", 25)]


def test_stock_value():
    inv = make_inventory()
    assert inv.stock_value() == 45141.70

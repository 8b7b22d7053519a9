"""Warehouse inventory helpers for the Northwind Relay fulfilment service.

Tracks stock levels per SKU, decides when an item must be reordered and
values the stock on hand. All quantities are whole units.
"""
from dataclasses import dataclass


@dataclass
class StockItem:
    sku: str
    name: str
    on_hand: int
    reorder_point: int
    reorder_qty: int
    unit_cost: float


class OutOfStockError(Exception):
    """Raised when a shipment asks for more units than are on hand."""


class Inventory:
    def __init__(self, items=()):
        self._items = {}
        for item in items:
            self.add_item(item)

    def add_item(self, item):
        if item.sku in self._items:
            raise ValueError("duplicate SKU: %s" % item.sku)
        self._items[item.sku] = item

    def get(self, sku):
        try:
            return self._items[sku]
        except KeyError:
            raise KeyError("unknown SKU: %s" % sku) from None

    def receive(self, sku, qty):
        if qty <= 0:
            raise ValueError("quantity must be positive")
        self.get(sku).on_hand += qty

    def ship(self, sku, qty):
        item = self.get(sku)
        if qty > item.on_hand:
            raise OutOfStockError("%s: requested %d, on hand %d" % (sku, qty, item.on_hand))
        item.on_hand -= qty

    def needs_reorder(self, sku):
        """An item must be reordered once stock is at or below its reorder point."""
        item = self.get(sku)
        return item.on_hand < item.reorder_point

    def reorder_list(self):
        """Return (sku, quantity) pairs to reorder, sorted by SKU."""
        return [(sku, self._items[sku].reorder_qty)
                for sku in sorted(self._items) if self.needs_reorder(sku)]

    def stock_value(self):
        """Total value of stock on hand, rounded to cents."""
        return round(sum(i.on_hand * i.unit_cost for i in self._items.values()), 2)

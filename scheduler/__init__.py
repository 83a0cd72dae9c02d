"""Scheduled work: APScheduler ticks that call domain code; due work lives in database rows."""
